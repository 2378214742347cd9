"""rtu104ctl's master subcommands over TLS (IEC 62351-3) against the real rtu104d with TLS listeners
(configs/rtu104ctl-tls.conf), and `rtu104ctl status` showing each TLS listener's certificate expiry.

The certificates are throw-away ones from scripts/make-certs, made into a tmp dir for the module (as in test_tls.py).
"""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import HERE, configured_daemon
from test_rtu104ctl_master import CTL, points_table, run

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl to make the test certificates")

LISTENERS = ("main", "expiring", "plain")
USAGE = 64


@pytest.fixture(scope="module")
def ctl():
    if not CTL.exists():
        pytest.skip(f"{CTL} is missing; build it with `swift build --product rtu104ctl`")
    return CTL


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, certs):
    daemon = configured_daemon(tmp_path_factory.mktemp("ctl-tls"), "rtu104ctl-tls", LISTENERS, certs=str(certs))
    daemon.start()
    yield daemon
    daemon.stop()


def station(daemon, listener: str = "main") -> str:
    return f"127.0.0.1:{daemon.ports[listener]}"


def tls_args(certs: Path, client: str | None = "client", ca: str = "ca.pem") -> list[str]:
    arguments = ["--tls", "--tls-ca", str(certs / ca)]
    if client:
        arguments += ["--tls-cert", str(certs / f"{client}.pem"), "--tls-key", str(certs / f"{client}.key")]
    return arguments


# MARK: the master subcommands over TLS

def test_interrogate_over_tls(ctl, daemon, certs):
    result = run(ctl, "interrogate", station(daemon), "--ca", "47", *tls_args(certs))
    assert result.returncode == 0, result.stderr
    assert "over TLS" in result.stderr and "CN=rtu104d" in result.stderr, result.stderr
    rows = {int(line.split()[1]): line for line in result.stdout.splitlines()[1:]}
    assert set(rows) == {p["ioa"] for p in points_table(47) if p["type"] != "counter"}
    assert rows[100].split()[2:5] == ["M_SP_NA_1", "off", "good"]
    assert rows[700].split()[2:5] == ["M_ME_NC_1", "230.5", "SB"]
    # The daemon saw master1's certificate, and the session ended with close_notify, not an error.
    log = daemon.log_text()
    assert "TLS connection established" in log and "CN=master1" in log


def test_command_over_tls(ctl, daemon, certs):
    result = run(ctl, "command", station(daemon), "48:2001", "on", "--type", "single", *tls_args(certs))
    assert result.returncode == 0, result.stderr
    assert "ACTCON positive" in result.stdout and "ACTTERM positive" in result.stdout
    read = run(ctl, "read", station(daemon), "48:1001", "--format", "json", *tls_args(certs))
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout)["value"] is True


def test_other_subcommands_over_tls(ctl, daemon, certs):
    for arguments in (["connect"], ["test", "--ca", "47"], ["clock-sync", "--ca", "47"]):
        result = run(ctl, *arguments[:1], station(daemon), *arguments[1:], *tls_args(certs))
        assert result.returncode == 0, f"{arguments}: {result.stderr}"
    compare = run(ctl, "compare", station(daemon), "--table", str(HERE / "configs" / "points-main.json"),
                  "--ignore-values", "--ignore-quality", *tls_args(certs))
    assert compare.returncode in (0, 1), compare.stderr
    assert "point(s) in the table" in compare.stdout


def test_monitor_over_tls(ctl, daemon, certs):
    result = run(ctl, "monitor", station(daemon), "--ca", "47", "--interrogate", "--count", "3", "--format", "json",
                 *tls_args(certs))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3


def test_bench_over_tls(ctl, daemon, certs):
    expected = len([p for p in points_table(47) if p["type"] != "counter"])
    result = run(ctl, "bench", station(daemon), "--gi", "--ca", "47", "--repeat", "2", "--expect", str(expected),
                 "--settle-ms", "50", *tls_args(certs))
    assert result.returncode == 0, result.stdout + result.stderr
    runs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["ok"] for r in runs] == [True, True], runs
    connections = run(ctl, "bench", station(daemon), "--connections", "3", *tls_args(certs))
    assert connections.returncode == 0, connections.stdout + connections.stderr
    assert json.loads(connections.stdout)["failures"] == 0


def test_server_only_authentication_is_refused_by_a_mutual_listener(ctl, daemon, certs):
    """No client certificate where the station requires one: the station refuses, rtu104ctl says so."""
    result = run(ctl, "connect", station(daemon), *tls_args(certs, client=None))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "refused" in result.stderr and "requires a client certificate" in result.stderr, result.stderr


# MARK: refusals

def test_client_certificate_from_another_ca_is_refused(ctl, daemon, certs):
    result = run(ctl, "interrogate", station(daemon), "--ca", "47", *tls_args(certs, client="client-other-ca"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    # The station's alert, or (if the alert was lost with the connection's reset) the close right after the handshake.
    assert "refused" in result.stderr and "certificate" in result.stderr, result.stderr
    assert "unknown ca" in result.stderr or "right after the TLS handshake" in result.stderr, result.stderr


def test_station_certificate_from_an_untrusted_ca(ctl, daemon, certs):
    """--tls-ca that did not issue the station's certificate: the handshake fails on our side."""
    result = run(ctl, "connect", station(daemon), *tls_args(certs, ca="other-ca.pem"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "certificate verify failed" in result.stderr and "untrusted CA" in result.stderr, result.stderr


def test_plain_to_a_tls_port(ctl, daemon):
    result = run(ctl, "connect", station(daemon))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--tls" in result.stderr, result.stderr


def test_tls_to_a_plain_port(ctl, daemon, certs):
    result = run(ctl, "connect", station(daemon, "plain"), *tls_args(certs))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "TLS handshake" in result.stderr, result.stderr


@pytest.mark.parametrize("arguments, message", [
    (["--tls"], "needs --tls-ca"),
    (["--tls-cert", "client.pem", "--tls-key", "client.key"], "needs --tls-ca"),
    (["--tls-ca", "ca.pem", "--tls-cert", "client.pem"], "--tls-cert needs --tls-key"),
])
def test_usage_errors(ctl, daemon, arguments, message):
    result = run(ctl, "interrogate", station(daemon), *arguments)
    assert result.returncode == USAGE, result.stderr
    assert message in result.stderr


def test_missing_certificate_file(ctl, daemon, certs):
    result = run(ctl, "connect", station(daemon), "--tls-ca", str(certs / "ca.pem"),
                 "--tls-cert", "/nonexistent/client.pem", "--tls-key", str(certs / "client.key"))
    assert result.returncode != 0
    assert "--tls-cert" in result.stderr and "/nonexistent/client.pem" in result.stderr, result.stderr


# MARK: status

def days_until(certs: Path, name: str) -> tuple[str, int]:
    text = subprocess.run(["openssl", "x509", "-in", str(certs / name), "-noout", "-enddate"], check=True,
                          capture_output=True, text=True).stdout.strip().split("=", 1)[1]
    end = datetime.datetime.strptime(text, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=datetime.timezone.utc)
    days = int((end - datetime.datetime.now(datetime.timezone.utc)).total_seconds() // 86_400)
    return end.strftime("%Y-%m-%d"), days


def test_status_shows_tls_listeners_and_expiry(ctl, daemon, certs):
    result = run(ctl, "status", "--socket", str(daemon.control_socket))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    print(text)
    main_date, main_days = days_until(certs, "server.pem")
    expiring_date, expiring_days = days_until(certs, "server-expiring.pem")
    assert f"listener main  {station(daemon)}  tls on" in text, text
    assert f"listener plain  {station(daemon, 'plain')}  tls off" in text, text
    blocks = {block.split()[0]: block for block in ("\n" + text).split("\nlistener ")[1:]}
    main = blocks["main"]
    assert "certificate " in main and "CN=rtu104d" in main, main
    assert any(f"expires {main_date}, in {days} days" in main for days in (main_days, main_days - 1, main_days + 1)), main
    assert "WARNING" not in main and "client certificate required" in main
    expiring = blocks["expiring"]
    assert f"WARNING: expires {expiring_date}, in " in expiring, expiring
    assert any(f"in {days} days" in expiring for days in (expiring_days, expiring_days - 1, expiring_days + 1))
    assert "TLS 1.3 or later" in expiring

    raw = run(ctl, "status", "--socket", str(daemon.control_socket), "--json")
    assert raw.returncode == 0, raw.stderr
    reply = json.loads(raw.stdout)
    listeners = {listener["name"]: listener for listener in reply["listeners"]}
    assert listeners["main"]["tls"] is True and listeners["plain"]["tls"] is False
    assert listeners["expiring"]["certificate"]["days_left"] < 30


def test_handshake_timeout(ctl, certs):
    """A port that accepts and never answers the ClientHello: the handshake gives up after --timeout."""
    import socket
    import time
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        started = time.monotonic()
        result = run(ctl, "connect", f"127.0.0.1:{silent.getsockname()[1]}", "--timeout", "1", *tls_args(certs))
        elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no TLS handshake within --timeout = 1.00 s" in result.stderr, result.stderr
    assert elapsed < 5


def test_station_certificate_must_name_the_host(ctl, daemon, certs):
    """The station's certificate names DNS:localhost and IP:127.0.0.1: both are accepted; a station reached
    under another name (here --tls-server-name) is refused even though its certificate comes from the trusted CA."""
    port = daemon.ports["main"]
    for host in ("127.0.0.1", "localhost"):
        result = run(ctl, "connect", f"{host}:{port}", *tls_args(certs))
        assert result.returncode == 0, f"{host}: {result.stderr}"
    refused = run(ctl, "connect", f"127.0.0.1:{port}", "--tls-server-name", "scada.example", *tls_args(certs))
    assert refused.returncode != 0
    assert "hostname mismatch" in refused.stderr.lower() or "certificate verify failed" in refused.stderr.lower(), \
        refused.stderr
