"""Session key renewal (IEC 62351-3) against the real daemon through TLS stacks that are not ours: every second the
daemon renegotiates TLS 1.2 connections (a full handshake: the master's certificate is verified again) and sends a
TLS 1.3 KeyUpdate, while numbered events stream to the master. Peers that cannot or will not renegotiate keep
working: one without RFC 5746 is not asked, one that refuses loses that connection once and is not asked again,
and a master's own renegotiation is refused."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

import c104
import iec104
from c104master import C104Master
from conftest import Daemon, configured_daemon
from test_rtu104ctl_tls import ctl  # noqa: F401 - the fixture
from iec104 import RawMaster
from robust import Control, Feeder, float_values
from test_tls import gi_and_command, gnutls, s_client

pytestmark = pytest.mark.skipif(not (shutil.which("socat") and shutil.which("gnutls-cli") and shutil.which("openssl")),
                                reason="needs socat, gnutls-cli (gnutls-bin) and openssl (make deps installs them)")

TLS12_ONLY = "NORMAL:-VERS-ALL:+VERS-TLS1.2"
EVENT_POINT = (47, 700)  # a float without deadband: every set is one spontaneous event
_series = iter(range(1, 100))


def next_series_start() -> int:
    """Each test numbers its events from its own start: a station keeps the events of earlier tests for its next
    master, and those are not this test's."""
    return next(_series) * 100_000


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, certs):
    daemon = configured_daemon(tmp_path_factory.mktemp("tls-rekey"), "tls-rekey", ("rekey12", "rekey13"), certs=str(certs))
    daemon.start()
    yield daemon
    daemon.stop()


def new_lines(daemon: Daemon, since: int, needle: str) -> list[str]:
    return [line for line in daemon.log_text().splitlines()[since:] if needle in line]


def wait_for_lines(daemon: Daemon, since: int, needle: str, count: int = 1, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = new_lines(daemon, since, needle)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} new log lines with {needle!r}:\n{daemon.log_tail(40)}")


def stream_events_across_rekeys(daemon: Daemon, master: RawMaster, kind: str, rekeys: int = 3) -> None:
    """Numbered events flow while the keys are renewed `rekeys` times; every one arrives, in order; then GI and a
    command still work."""
    since = len(daemon.log_text().splitlines())
    master.start_dt()
    first = next_series_start()
    feeder = Feeder(daemon.control_socket, [EVENT_POINT], count=90_000, batch=5, pause=0.02, start=first)
    feeder.start()
    received: list[iec104.ASDU] = []
    try:
        deadline = time.monotonic() + 15.0
        while len(new_lines(daemon, since, f"TLS session keys renewed ({kind})")) < rekeys:
            assert time.monotonic() < deadline, f"fewer than {rekeys} renewals in 15 s:\n{daemon.log_tail(30)}"
            received += master.collect(0.2)
    finally:
        feeder.stopped.set()
        feeder.finish()
    last = float(first + feeder.sent - 1)

    def ours() -> list[float]:
        values = float_values(received, ca=EVENT_POINT[0]).get(EVENT_POINT[1], [])
        return [value for value in values if first <= value <= last]

    if last not in ours():
        received += master.until(lambda a: a.ca == EVENT_POINT[0] and any(o.value == last for o in a.objects), 10.0)
    sent = feeder.sent
    assert ours() == [float(n) for n in range(first, first + sent)], f"{len(ours())} of {sent} events, in order?"
    assert sent > 20
    gi_and_command(master)
    renewed = new_lines(daemon, since, "TLS session keys renewed")
    assert all("CN=master1" in line for line in renewed), renewed
    assert not new_lines(daemon, since, "TLS connection failed"), daemon.log_tail(30)


@pytest.mark.parametrize("tool", ["gnutls", "s_client"])
def test_tls_1_2_renegotiation_every_interval(daemon, certs, tool):
    tunnel = gnutls(certs, daemon.ports["rekey12"], priority=TLS12_ONLY) if tool == "gnutls" \
        else s_client(certs, daemon.ports["rekey12"], extra=("-tls1_2",))
    with tunnel, tunnel.master() as master:
        stream_events_across_rekeys(daemon, master, "renegotiation")


@pytest.mark.parametrize("tool", ["gnutls", "s_client"])
def test_tls_1_3_key_update_every_interval(daemon, certs, tool):
    tunnel = gnutls(certs, daemon.ports["rekey13"]) if tool == "gnutls" else s_client(certs, daemon.ports["rekey13"])
    with tunnel, tunnel.master() as master:
        stream_events_across_rekeys(daemon, master, "key update")


def test_python_ssl_follows_renegotiation(daemon, certs):
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    context.load_cert_chain(str(certs / "client.pem"), str(certs / "client.key"))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    since = len(daemon.log_text().splitlines())
    with socket.create_connection(("127.0.0.1", daemon.ports["rekey12"]), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        pending = b""

        def next_u_frame() -> bytes:
            """The next U-frame; I-frames (events the station kept from earlier tests) are acknowledged and passed over."""
            nonlocal pending
            while True:
                frames, pending = iec104.split_apdus(pending)
                for index, frame in enumerate(frames):
                    if frame[2] & 0x03 == 0x03:
                        pending = b"".join(frames[index + 1:]) + pending
                        return frame
                    if frame[2] & 0x01 == 0:
                        received = (frame[2] | frame[3] << 8) >> 1
                        tls.sendall(bytes([0x68, 4, 1, 0]) + (((received + 1) & 0x7FFF) << 1).to_bytes(2, "little"))
                chunk = tls.recv(65536)
                assert chunk, "the daemon closed the connection"
                pending += chunk

        tls.sendall(iec104.STARTDT_ACT)
        assert next_u_frame() == iec104.STARTDT_CON
        for _ in range(25):  # 2.5 s: test frames answered across two or more renegotiations
            time.sleep(0.1)
            tls.sendall(iec104.TESTFR_ACT)
            assert next_u_frame() == iec104.TESTFR_CON
        # The control socket's status names the master's certificate and counts the renewals of its connection.
        with Control(daemon.control_socket) as control:
            connections = control.status()["scada12"]["connections"]
        assert len(connections) == 1, connections
        session = connections[0]["tls"]
        assert session["subject"] == "O=rtu104d,CN=master1" and session["version"] == "TLSv1.2", session
        assert session["renewals"] >= 2, session
    assert len(new_lines(daemon, since, "TLS session keys renewed (renegotiation)")) >= 2


def test_peer_without_secure_renegotiation_is_not_asked(daemon, certs):
    since = len(daemon.log_text().splitlines())
    with gnutls(certs, daemon.ports["rekey12"], priority=TLS12_ONLY + ":%DISABLE_SAFE_RENEGOTIATION") as tunnel, \
            tunnel.master() as master:
        master.start_dt()
        line = wait_for_lines(daemon, since, "TLS session keys are not renewed on this connection")[0]
        assert "does not support secure renegotiation (RFC 5746)" in line and "CN=master1" in line
        time.sleep(1.5)
        gi_and_command(master)
    assert not new_lines(daemon, since, "TLS session keys renewed")
    assert not new_lines(daemon, since, "TLS connection failed")


def test_refusing_peer_loses_one_connection_and_is_not_asked_again(daemon, certs):
    """OpenSSL ends a connection whose peer refuses a renegotiation; the daemon remembers the certificate."""
    since = len(daemon.log_text().splitlines())
    refusing = ("-tls1_2", "-no_renegotiation")
    with s_client(certs, daemon.ports["rekey12"], client="client2", extra=refusing) as tunnel, \
            tunnel.master(timeout=5.0) as master:
        master.start_dt()
        assert master.wait_closed(10.0)
    line = wait_for_lines(daemon, since, "refused to renegotiate")[0]
    assert "not asked again until the next reload" in line
    with s_client(certs, daemon.ports["rekey12"], client="client2", extra=refusing) as tunnel, \
            tunnel.master() as master:
        master.start_dt()
        line = wait_for_lines(daemon, since, "TLS session keys are not renewed on this connection")[0]
        assert "refused renegotiation on an earlier connection" in line and "CN=master2" in line
        time.sleep(1.5)
        gi_and_command(master)
    assert len(new_lines(daemon, since, "refused to renegotiate")) == 1


def test_master_initiated_renegotiation_is_refused(daemon, certs):
    """gnutls-cli --rehandshake asks for a renegotiation right after its handshake: refused, and the daemon serves
    the next master as before."""
    result = subprocess.run(
        ["gnutls-cli", "--logfile=/dev/null", f"--x509cafile={certs}/ca.pem", f"--x509certfile={certs}/client.pem",
         f"--x509keyfile={certs}/client.key", f"--priority={TLS12_ONLY}", "--rehandshake", "-p",
         str(daemon.ports["rekey12"]), "127.0.0.1"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=15)
    output = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
    assert "Rehandshake was performed" not in output, output
    with gnutls(certs, daemon.ports["rekey12"], priority=TLS12_ONLY) as tunnel, tunnel.master() as master:
        gi_and_command(master)


@pytest.mark.parametrize("listener, version, kind", [("rekey12", "1.2", "renegotiation"), ("rekey13", "1.3", "key update")])
def test_rtu104ctl_master_follows_the_renewal(ctl, daemon, certs, listener, version, kind):
    """Our own master (rtu104ctl, OpenSSL over memory BIOs like the daemon) keeps monitoring across renewals."""
    since = len(daemon.log_text().splitlines())
    first = next_series_start()
    monitor = subprocess.Popen(
        [str(ctl), "monitor", f"127.0.0.1:{daemon.ports[listener]}", "--duration", "4", "--format", "csv",
         "--tls-ca", str(certs / "ca.pem"), "--tls-cert", str(certs / "client.pem"), "--tls-key", str(certs / "client.key"),
         "--tls-max-version", version],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_lines(daemon, since, "TLS connection established")
        feeder = Feeder(daemon.control_socket, [EVENT_POINT], count=200, batch=5, pause=0.05, start=first)
        feeder.start()
        feeder.finish()
        out, err = monitor.communicate(timeout=15)
    finally:
        if monitor.poll() is None:
            monitor.kill()
            monitor.communicate()
    assert monitor.returncode == 0, err
    values = []
    for line in out.splitlines():
        fields = line.split(",")
        if len(fields) > 4 and fields[0] == str(EVENT_POINT[0]) and fields[1] == str(EVENT_POINT[1]):
            value = float(fields[3])
            if first <= value < first + 200:
                values.append(value)
    assert values == [float(n) for n in range(first, first + 200)], out[-2000:]
    renewed = new_lines(daemon, since, f"TLS session keys renewed ({kind})")
    assert len(renewed) >= 2, daemon.log_tail(30)
    assert not new_lines(daemon, since, "TLS connection failed")


def test_status_shows_the_renewal_interval(ctl, daemon):
    result = subprocess.run([str(ctl), "status", "--socket", str(daemon.control_socket)], capture_output=True, text=True,
                            timeout=10)
    assert result.returncode == 0, result.stderr
    assert "TLS 1.2 or later, client certificate required, session keys renewed every 1s" in result.stdout, result.stdout
    assert "TLS 1.3 or later, client certificate required, session keys renewed every 1s" in result.stdout, result.stdout


def test_rtu104ctl_bench_follows_renegotiation(ctl, daemon, certs):
    """rtu104ctl bench has its own non-blocking receive path; it must send the handshake records a renegotiation
    produces while it reads (it once left them unsent, and every event after the first HelloRequest was held)."""
    since = len(daemon.log_text().splitlines())
    feeder = Feeder(daemon.control_socket, [EVENT_POINT], count=90_000, batch=5, pause=0.02, start=next_series_start())
    bench = subprocess.Popen(
        [str(ctl), "bench", "--events", "--duration", "3.5", "--warmup", "0.5", "--ca", "47",
         f"127.0.0.1:{daemon.ports['rekey12']}", "--tls-ca", str(certs / "ca.pem"), "--tls-cert", str(certs / "client.pem"),
         "--tls-key", str(certs / "client.key"), "--tls-max-version", "1.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_lines(daemon, since, "TLS connection established")
        feeder.start()
        out, err = bench.communicate(timeout=20)
    finally:
        feeder.stopped.set()
        if feeder.is_alive():
            feeder.finish()
        if bench.poll() is None:
            bench.kill()
            bench.communicate()
    assert bench.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    renewed = new_lines(daemon, since, "TLS session keys renewed (renegotiation)")
    assert len(renewed) >= 3, daemon.log_tail(30)
    # About 250 events/s from the feeder for 3.5 s, across three or more renegotiations.
    assert result["events"] > 400, result
    assert not new_lines(daemon, since, "TLS connection failed")


@pytest.mark.parametrize("tool", ["gnutls", "s_client"])
def test_c104_master_across_renegotiations(daemon, certs, tool):
    """The third-party master (c104) through GnuTLS or OpenSSL at TLS 1.2: interrogations before and after
    renegotiations are answered completely."""
    tunnel = gnutls(certs, daemon.ports["rekey12"], priority=TLS12_ONLY) if tool == "gnutls" \
        else s_client(certs, daemon.ports["rekey12"], extra=("-tls1_2",))
    since = len(daemon.log_text().splitlines())
    with tunnel, C104Master(tunnel.port, [47]) as master:
        for renewals in (0, 2, 4):
            if renewals:
                wait_for_lines(daemon, since, "TLS session keys renewed (renegotiation)", count=renewals)
            mark = master.mark()
            master.connection.interrogation(common_address=47, cause=c104.Cot.ACTIVATION, qualifier=c104.Qoi.STATION)
            asdus = master.wait_for(lambda a: a.type_id == iec104.C_IC_NA_1 and a.cause == iec104.COT_ACTTERM, mark, 5.0)
            interrogated = {o.ioa for a in asdus if a.cause == iec104.COT_INTERROGATED for o in a.objects}
            assert {100, 101, 102, 103, 200, 202, 300, 400, 500, 600, 601, 700} <= interrogated, asdus
    assert not new_lines(daemon, since, "TLS connection failed")
