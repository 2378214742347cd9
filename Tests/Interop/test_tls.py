"""TLS (IEC 62351-3) against the real daemon, through TLS stacks that are not ours: GnuTLS (gnutls-cli) and
OpenSSL's s_client, each carried by socat so that the plain raw master speaks IEC 104 through them; python's
ssl module as a third client for convenience.

The certificates are throw-away ones from scripts/make-certs (the session's `certs` fixture in conftest.py)."""

from __future__ import annotations

import calendar
import os
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

import c104
import iec104
from c104master import C104Master
from conftest import Daemon, configured_daemon, free_port
from expect import assert_mirror
from iec104 import RawMaster

pytestmark = pytest.mark.skipif(not (shutil.which("socat") and shutil.which("gnutls-cli") and shutil.which("openssl")),
                                reason="needs socat, gnutls-cli (gnutls-bin) and openssl (make deps installs them)")

LISTENERS = ("main", "plain", "pinned", "strict", "metrics")


def fingerprint(certs: Path, name: str) -> str:
    for line in (certs / "fingerprints.txt").read_text().splitlines():
        file, digest = line.split()
        if file == name:
            return digest
    raise KeyError(name)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, certs):
    daemon = tls_daemon(tmp_path_factory.mktemp("tls"), certs)
    daemon.start()
    yield daemon
    daemon.stop()


def tls_daemon(directory: Path, certs: Path, name: str = "tls", edit=lambda text: text) -> Daemon:
    """configs/tls.conf with the test certificates from `certs` (the pin for master2 from the real `certs`)."""
    pin = fingerprint(certs, "client2.pem")
    return configured_daemon(directory, "tls", LISTENERS, name=name, edit=edit, certs=str(certs), pin_client2=pin)


# MARK: tunnels: socat listens on a local port and runs the TLS client for the connection

class Tunnel:
    def __init__(self, command: list[str]):
        self.port = free_port()
        self.stderr = b""
        # socat parses ':' and ',' in an EXEC address itself (GnuTLS priority strings have both): the command goes
        # into a script, so that it reaches the TLS client as written.
        script = tempfile.NamedTemporaryFile("w", prefix="tunnel-", suffix=".sh", delete=False)
        script.write("#!/bin/sh\nexec " + " ".join(shlex.quote(part) for part in command) + "\n")
        script.close()
        os.chmod(script.name, 0o700)
        self.script = Path(script.name)
        self.process = subprocess.Popen(
            ["socat", f"TCP-LISTEN:{self.port},bind=127.0.0.1,reuseaddr", f"EXEC:{self.script},nofork"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def master(self, timeout: float = 5.0) -> RawMaster:
        deadline = time.monotonic() + 5.0
        while True:
            try:
                return RawMaster(self.port, timeout=timeout)
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            _, self.stderr = self.process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
        self.script.unlink(missing_ok=True)

    def __enter__(self) -> "Tunnel":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def gnutls(certs: Path, port: int, client: str | None = "client", priority: str | None = None) -> Tunnel:
    command = ["gnutls-cli", "--logfile=/dev/null", f"--x509cafile={certs}/ca.pem", "-p", str(port)]
    if client:
        command += [f"--x509certfile={certs}/{client}.pem", f"--x509keyfile={certs}/{client}.key"]
    if priority:
        command += [f"--priority={priority}"]
    return Tunnel(command + ["127.0.0.1"])


def s_client(certs: Path, port: int, client: str | None = "client", extra: tuple[str, ...] = ()) -> Tunnel:
    command = ["openssl", "s_client", "-quiet", "-verify_return_error", "-CAfile", f"{certs}/ca.pem",
               "-connect", f"127.0.0.1:{port}", *extra]
    if client:
        command += ["-cert", f"{certs}/{client}.pem", "-key", f"{certs}/{client}.key"]
    return Tunnel(command)


def python_tls(certs: Path, port: int, client: str = "client") -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.load_cert_chain(str(certs / f"{client}.pem"), str(certs / f"{client}.key"))
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def wait_for_log(daemon: Daemon, text: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in daemon.log_text().splitlines():
            if text in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no log line with {text!r}:\n{daemon.log_tail(40)}")


def gi_and_command(master: RawMaster) -> None:
    master.start_dt()
    request = iec104.gi(47)
    master.send_asdu(request)
    replies = master.until(lambda a: a.type_id == iec104.C_IC_NA_1 and a.cause == iec104.COT_ACTTERM, 5.0)
    # Events of earlier tests' commands may come first: the station keeps its event buffer between connections.
    confirmations = [a for a in replies if a.type_id == iec104.C_IC_NA_1]
    assert_mirror(confirmations[0], request, iec104.COT_ACTCON)
    assert any(a.cause == 20 for a in replies), replies
    command = iec104.single_command(48, 2001, True)
    replies = master.request(command, until_cause=iec104.COT_ACTTERM, timeout=5.0)
    assert_mirror([a for a in replies if a.type_id == iec104.C_SC_NA_1][0], command, iec104.COT_ACTCON)
    assert_mirror(replies[-1], command, iec104.COT_ACTTERM)


# MARK: the IEC 104 session through independent TLS stacks

def test_gi_and_command_through_gnutls(daemon, certs):
    with gnutls(certs, daemon.ports["main"]) as tunnel, tunnel.master() as master:
        gi_and_command(master)
    line = wait_for_log(daemon, "TLS connection established")
    assert "CN=master1" in line


def test_gi_and_command_through_openssl_s_client(daemon, certs):
    with s_client(certs, daemon.ports["main"]) as tunnel, tunnel.master() as master:
        gi_and_command(master)


@pytest.mark.parametrize("tool", ["gnutls", "s_client"])
def test_c104_master_through_tls(daemon, certs, tool):
    """The third-party master (c104) speaks IEC 104 through GnuTLS or OpenSSL to the TLS listener: a GI and a
    single command, judged by the frames c104 recorded."""
    make = gnutls if tool == "gnutls" else s_client
    with make(certs, daemon.ports["main"]) as tunnel, C104Master(tunnel.port, [47, 48]) as master:
        since = master.mark()
        master.connection.interrogation(common_address=47, cause=c104.Cot.ACTIVATION, qualifier=c104.Qoi.STATION)
        asdus = master.wait_for(lambda a: a.type_id == iec104.C_IC_NA_1 and a.cause == iec104.COT_ACTTERM, since, 5.0)
        assert_mirror([a for a in asdus if a.type_id == iec104.C_IC_NA_1][0], iec104.gi(47), iec104.COT_ACTCON)
        interrogated = {o.ioa for a in asdus if a.cause == iec104.COT_INTERROGATED and a.ca == 47 for o in a.objects}
        assert {100, 101, 200, 500, 700} <= interrogated, asdus

        point = master.stations[48].add_point(io_address=2001, type=c104.Type.C_SC_NA_1)
        point.info = c104.SingleCmd(on=True)
        since, since_sent = master.mark(), len(master.sent)
        point.transmit(cause=c104.Cot.ACTIVATION)  # its return value is not trusted; the frames are
        replies = master.wait_for(lambda a: a.type_id == iec104.C_SC_NA_1 and a.cause == iec104.COT_ACTTERM, since, 5.0)
        sent = [iec104.asdu_of_apdu(frame) for frame in master.sent[since_sent:]]
        command = next(asdu.raw for asdu in sent if asdu is not None and asdu.type_id == iec104.C_SC_NA_1)
        confirmations = [a for a in replies if a.type_id == iec104.C_SC_NA_1]
        assert_mirror(confirmations[0], command, iec104.COT_ACTCON)
        assert_mirror(confirmations[-1], command, iec104.COT_ACTTERM)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_gi_through_python_ssl(daemon, certs, version):
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.load_cert_chain(str(certs / "client.pem"), str(certs / "client.key"))
    context.maximum_version = version
    with socket.create_connection(("127.0.0.1", daemon.ports["main"]), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() == ("TLSv1.2" if version == ssl.TLSVersion.TLSv1_2 else "TLSv1.3")
            assert "GCM" in tls.cipher()[0]
            master = RawMaster.__new__(RawMaster)
            RawMaster.__init__  # the raw master's state without its own socket
            master.sock, master.buffer, master.send_seq, master.recv_seq = tls, b"", 0, 0
            master.received, master.closed, master.auto_ack, master.sent_s_frames = [], False, True, 0
            gi_and_command(master)


# MARK: refusals, each logged with the reason and the certificate subject

@pytest.mark.parametrize("client, reason, subject", [
    ("client-other-ca", "unknown certificate: issued by an untrusted CA", "CN=rogue-master"),
    ("client-expired", "certificate expired", "CN=expired-master"),
    ("client-revoked", "certificate revoked", "CN=revoked-master"),
])
@pytest.mark.parametrize("tool", ["gnutls", "s_client"])
def test_bad_client_certificates_are_refused(daemon, certs, tool, client, reason, subject):
    before = len(daemon.log_text().splitlines())
    make = gnutls if tool == "gnutls" else s_client
    with make(certs, daemon.ports["main"], client) as tunnel, tunnel.master(timeout=2.0) as master:
        master.send_raw(iec104.STARTDT_ACT)
        assert master.wait_closed(5.0), "the daemon kept a connection with a refused certificate"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        refused = [l for l in daemon.log_text().splitlines()[before:] if "refused TLS connection" in l and reason in l]
        if refused:
            break
        time.sleep(0.05)
    assert refused, daemon.log_tail(30)
    assert subject in refused[-1], refused[-1]
    assert "peer" in refused[-1] and "127.0.0.1" in refused[-1]


def test_client_without_certificate_is_refused(daemon, certs):
    with s_client(certs, daemon.ports["main"], client=None) as tunnel, tunnel.master(timeout=2.0) as master:
        master.send_raw(iec104.STARTDT_ACT)
        assert master.wait_closed(5.0)
    wait_for_log(daemon, "peer did not return a certificate")


def test_tls_handshakes_and_expiry_in_metrics(daemon, certs):
    """A handshake that succeeds and one refused for want of a client certificate move the TLS counters and the
    refusal counter of their listener; the expiry gauge is the listener certificate's notAfter."""
    from prometheus_client.parser import text_string_to_metric_families

    def scrape() -> dict[tuple, float]:
        with urllib.request.urlopen(f"http://127.0.0.1:{daemon.ports['metrics']}/metrics", timeout=5) as reply:
            text = reply.read().decode()
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    def value(metrics, name, **labels):
        return metrics.get((name, tuple(sorted(labels.items()))), 0.0)

    before = scrape()
    with gnutls(certs, daemon.ports["main"]) as tunnel, tunnel.master() as master:
        master.start_dt()
    with s_client(certs, daemon.ports["main"], client=None) as tunnel, tunnel.master(timeout=2.0) as master:
        master.send_raw(iec104.STARTDT_ACT)
        assert master.wait_closed(5.0)
    deadline = time.monotonic() + 5
    while True:
        after = scrape()
        moved = (value(after, "rtu104d_tls_handshakes_total", listener="main", result="success")
                 - value(before, "rtu104d_tls_handshakes_total", listener="main", result="success") >= 1
                 and value(after, "rtu104d_tls_handshakes_total", listener="main", result="failure")
                 - value(before, "rtu104d_tls_handshakes_total", listener="main", result="failure") >= 1)
        if moved or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert moved, (before, after)
    assert (value(after, "rtu104d_connections_refused_total", listener="main", reason="tls")
            - value(before, "rtu104d_connections_refused_total", listener="main", reason="tls")) >= 1
    end_date = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", str(certs / "server.pem")],
                              capture_output=True, text=True, check=True).stdout.strip().split("=", 1)[1]
    not_after = calendar.timegm(time.strptime(end_date.replace(" GMT", ""), "%b %d %H:%M:%S %Y"))
    assert value(after, "rtu104d_tls_certificate_expiry_timestamp_seconds", listener="main") == not_after
    assert value(after, "rtu104d_tls_certificate_expiry_timestamp_seconds", listener="plain") == 0, "no TLS there"


def test_certificate_not_on_the_allow_list_is_refused(daemon, certs):
    with gnutls(certs, daemon.ports["pinned"], "client") as tunnel, tunnel.master(timeout=2.0) as master:
        master.send_raw(iec104.STARTDT_ACT)
        assert master.wait_closed(5.0)
    line = wait_for_log(daemon, "not on the allow-list")
    assert "CN=master1" in line
    # The pinned certificate gets through.
    with gnutls(certs, daemon.ports["pinned"], "client2") as tunnel, tunnel.master() as master:
        gi_and_command(master)


def test_station_certificate_requirement(daemon, certs):
    with s_client(certs, daemon.ports["strict"], "client") as tunnel, tunnel.master(timeout=2.0) as master:
        master.send_raw(iec104.STARTDT_ACT)
        assert master.wait_closed(5.0)
    line = wait_for_log(daemon, "require_subject")
    assert "CN=master1" in line and "station" in line
    with s_client(certs, daemon.ports["strict"], "client2") as tunnel, tunnel.master() as master:
        gi_and_command(master)


# MARK: protocol mismatches

def test_plaintext_master_on_tls_port_is_closed_promptly(daemon):
    started = time.monotonic()
    with RawMaster(daemon.ports["main"], timeout=5.0) as master:
        master.send_raw(iec104.STARTDT_ACT)
        assert master.wait_closed(5.0)
    # Promptly: well before the 10 s handshake timeout, with room for a loaded machine's pause.
    assert time.monotonic() - started < 5.0
    wait_for_log(daemon, "refused TLS connection")


def test_tls_client_on_plain_port_fails_cleanly(daemon, certs):
    result = subprocess.run(["openssl", "s_client", "-CAfile", f"{certs}/ca.pem", "-connect",
                             f"127.0.0.1:{daemon.ports['plain']}"], input=b"", capture_output=True, timeout=10)
    assert result.returncode != 0
    result = subprocess.run(["gnutls-cli", f"--x509cafile={certs}/ca.pem", "-p", str(daemon.ports["plain"]), "127.0.0.1"],
                            input=b"", capture_output=True, timeout=10)
    assert result.returncode != 0
    # The plain listener still serves.
    with RawMaster(daemon.ports["plain"]) as master:
        master.start_dt()


@pytest.mark.parametrize("tool", ["gnutls", "s_client"])
def test_tls_1_1_is_refused(daemon, certs, tool):
    if tool == "gnutls":
        command = ["gnutls-cli", f"--x509cafile={certs}/ca.pem", f"--x509certfile={certs}/client.pem",
                   f"--x509keyfile={certs}/client.key", "--priority=NORMAL:-VERS-ALL:+VERS-TLS1.1:%VERIFY_ALLOW_SIGN_WITH_SHA1",
                   "-p", str(daemon.ports["main"]), "127.0.0.1"]
    else:
        command = ["openssl", "s_client", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", f"{certs}/ca.pem",
                   "-cert", f"{certs}/client.pem", "-key", f"{certs}/client.key",
                   "-connect", f"127.0.0.1:{daemon.ports['main']}"]
    result = subprocess.run(command, input=b"", capture_output=True, timeout=10)
    assert result.returncode != 0, result.stdout.decode(errors="replace")
    wait_for_log(daemon, "unsupported protocol")


def test_tls_1_2_only_client_on_a_1_3_listener_is_refused(daemon, certs):
    with gnutls(certs, daemon.ports["pinned"], "client2", priority="NORMAL:-VERS-ALL:+VERS-TLS1.2") as tunnel, \
            tunnel.master(timeout=2.0) as master:
        master.send_raw(iec104.STARTDT_ACT)
        assert master.wait_closed(5.0)


# MARK: certificates on reload

def served_certificate(certs: Path, port: int) -> dict:
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.load_cert_chain(str(certs / "client.pem"), str(certs / "client.key"))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.getpeercert()


def log_lines_after(daemon: Daemon, count: int, needle: str, timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [line for line in daemon.log_text().splitlines()[count:] if needle in line]
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no new log line with {needle!r}:\n{daemon.log_tail(30)}")


def test_reload_rereads_certificates_and_keeps_them_when_broken(tmp_path_factory, certs):
    """The listener's files are read again on SIGHUP: a broken certificate fails the reload and the old context
    stays in force; a good one (here expiring in 10 days, so warned about) replaces it for new connections."""
    directory = tmp_path_factory.mktemp("tls-reload")
    own = directory / "certs"
    shutil.copytree(certs, own)
    daemon = tls_daemon(directory, own, name="tls-reload")
    ports = daemon.ports
    daemon.start()
    try:
        original = served_certificate(certs, ports["main"])["notAfter"]
        lines = len(daemon.log_text().splitlines())
        (own / "server.pem").write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
        os.kill(daemon.process.pid, signal.SIGHUP)
        failed = log_lines_after(daemon, lines, "the running configuration stays")
        assert "server.pem" in failed[0], failed[0]
        assert served_certificate(certs, ports["main"])["notAfter"] == original
        with gnutls(certs, ports["main"]) as tunnel, tunnel.master() as master:
            gi_and_command(master)

        lines = len(daemon.log_text().splitlines())
        shutil.copy(own / "server-expiring.pem", own / "server.pem")
        shutil.copy(own / "server-expiring.key", own / "server.key")
        os.kill(daemon.process.pid, signal.SIGHUP)
        log_lines_after(daemon, lines, "configuration reloaded")
        warning = log_lines_after(daemon, lines, "TLS certificate expires in")
        assert "listener=main" in " ".join(warning)
        assert served_certificate(certs, ports["main"])["notAfter"] != original
    finally:
        daemon.stop()


def test_connections_in_their_handshake_count_against_max_connections(tmp_path_factory, certs):
    """Connections that never finish (or start) their TLS handshake hold a place under max_connections until the
    handshake timeout, so a crowd of them cannot exceed the listener's limit."""
    daemon = tls_daemon(tmp_path_factory.mktemp("tls-limit"), certs, name="tls-limit",
                        edit=lambda text: text.replace("[listener main]\n", "[listener main]\nmax_connections = 2\n"))
    ports = daemon.ports
    daemon.start()
    try:
        time.sleep(0.5)  # the fixture's probes of the port have closed and no longer count
        silent = [socket.create_connection(("127.0.0.1", ports["main"]), timeout=5) for _ in range(2)]
        time.sleep(0.3)
        for sock in silent:
            sock.settimeout(0.2)
            with pytest.raises(TimeoutError):
                sock.recv(16)  # held open, waiting for a ClientHello
        with socket.create_connection(("127.0.0.1", ports["main"]), timeout=5) as third:
            assert third.recv(16) == b""
        line = wait_for_log(daemon, "refused connection: listener at its connection limit")
        assert "listener=main" in line and "limit=2" in line
        silent[0].close()
        time.sleep(0.3)
        context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
        context.load_cert_chain(str(certs / "client.pem"), str(certs / "client.key"))
        with socket.create_connection(("127.0.0.1", ports["main"]), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(iec104.STARTDT_ACT)
            assert tls.recv(6) == iec104.STARTDT_CON
        silent[1].close()
    finally:
        daemon.stop()


def test_no_expiry_warning_for_a_certificate_valid_for_years(daemon):
    """server.pem is valid for years: no warning for it at start."""
    assert "TLS certificate expires in" not in daemon.log_text()


def test_status_reports_listener_certificate_expiry(daemon):
    import json
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as control:
        control.settimeout(5)
        control.connect(str(daemon.control_socket))
        control.sendall(b'{"op": "status"}\n')
        reply = b""
        while not reply.endswith(b"\n"):
            reply += control.recv(65536)
    status = json.loads(reply)
    listeners = {listener["name"]: listener for listener in status["listeners"]}
    assert listeners["plain"]["tls"] is False and "certificate" not in listeners["plain"]
    certificate = listeners["main"]["certificate"]
    assert certificate["subject"] == "O=rtu104d,CN=rtu104d"
    assert certificate["days_left"] > 30
    assert certificate["not_after"].endswith("Z")
    assert certificate["client_certificate_required"] is True
    assert listeners["pinned"]["certificate"]["min_version"] == "1.3"


@pytest.mark.parametrize("listener, resumed", [("main", True), ("strict", False)])
def test_session_resumption(daemon, certs, listener, resumed):
    """tls_session_resumption: on (default) on main, off on strict (TLS 1.2 session IDs)."""
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.load_cert_chain(str(certs / "client2.pem"), str(certs / "client2.key"))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", daemon.ports[listener]), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as first:
            session = first.session
            first.sendall(iec104.STARTDT_ACT)
            assert first.recv(6) == iec104.STARTDT_CON
    with socket.create_connection(("127.0.0.1", daemon.ports[listener]), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1", session=session) as second:
            assert second.session_reused == resumed
            second.sendall(iec104.STARTDT_ACT)
            assert second.recv(6) == iec104.STARTDT_CON
