"""Hostile peers against the real daemon (configs/hostile.conf), each while a working master is
connected: garbage, malformed lengths, a frame in single bytes, I-frames before STARTDT, bad
acknowledgements, more than k I-frames in flight, a master that never acknowledges, connections that
never start, floods beyond the connection limits, half-open peers, a peer that does not read, and an
address no station admits.

Every test runs `legit_traffic`: a master on 127.0.0.1 (station scada, CA 47) receives numbered
events (robust.Feeder through the control socket) for the whole attack and must get every one of
them, in order. The daemon must stay up (the fixture's SIGTERM stop asserts exit 0), and each attack
is logged a bounded number of times: lines naming the attacker's address are counted, and their
number does not grow with the bytes sent. Each attack uses its own 127/8 source address for that.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from contextlib import contextmanager

import pytest

import iec104
from iec104 import RawMaster
from robust import (Control, Feeder, LegitMaster, check_numbered, connect, drain_until_closed, float_values, lines_mentioning,
                    proc_figures)

T1, T3, START_TIMEOUT = 2.0, 1.0, 1.0
SLACK = 1.5
LIMIT_PER_ADDRESS, LIMIT_LISTENER = 3, 12
# The daemon logs the first 5 refusals of one source (listener, address, reason) within 10 s one by one,
# at most 100 in all, and then one summary line per source when the 10 s are over.
REFUSALS_LOGGED_PER_SOURCE, REFUSAL_WINDOW = 5, 10.0
LEGIT_POINT = (47, 5001)
_next_value = [1]


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("hostile", listeners=("main", "strict", "discard"))


@contextmanager
def legit_traffic(daemon, count: int = 200):
    """The working master receives `count` numbered events fed during the block; checked at its end."""
    start = _next_value[0]
    _next_value[0] += count
    legit = LegitMaster(daemon.port)
    legit.start()
    feeder = Feeder(daemon.control_socket, [LEGIT_POINT], count, batch=2, pause=0.01, start=start)
    feeder.start()
    try:
        yield
    finally:
        feeder.finish()
        values = legit.wait_for(LEGIT_POINT[1], count)
        values = [v for v in values if v >= start]
        legit.stop()
    check_numbered(values, count, start)


def attack_log(daemon, address: str, mark: int) -> list[str]:
    return lines_mentioning(daemon.log_text(), address, since=mark)


def log_mark(daemon) -> int:
    return len(daemon.log_text().splitlines())


def wait_log(daemon, address: str, mark: int, needle: str, timeout: float = 3.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = attack_log(daemon, address, mark)
        if any(needle in line for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def started(sock: socket.socket) -> None:
    sock.sendall(iec104.STARTDT_ACT)
    deadline = time.monotonic() + 3
    got = b""
    while iec104.STARTDT_CON not in got:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        chunk = sock.recv(4096)
        assert chunk, "closed before STARTDT con"
        got += chunk


MALFORMED = {
    "garbage": bytes([0x12]) + os.urandom(65535),
    "wrong-start-octet": bytes.fromhex("69 04 07 00 00 00") * 100,
    "length-0": bytes.fromhex("68 00") * 1000,
    "length-1": bytes.fromhex("68 01 00") * 1000,
    "length-2": bytes.fromhex("68 02 00 00") * 1000,
    "length-3": bytes.fromhex("68 03 00 00 00") * 1000,
    "length-254": bytes([0x68, 254]) + bytes(254),
    "length-255": bytes([0x68, 255]) + bytes(255),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_input_closes_only_that_link_and_logs_once(daemon, name):
    address = f"127.0.0.{10 + list(MALFORMED).index(name)}"
    mark = log_mark(daemon)
    with legit_traffic(daemon):
        with connect(daemon.port, address) as sock:
            started(sock)
            try:
                sock.sendall(MALFORMED[name])
            except (BrokenPipeError, ConnectionResetError):
                pass  # closed while we were still sending: fine
            closed, _ = drain_until_closed(sock, 2.0)
            assert closed, f"{name}: the link stays open"
    lines = wait_log(daemon, address, mark, "disconnected")
    closing = [line for line in lines if "closing connection" in line]
    assert len(closing) == 1, f"{name}: expected one line about closing, got:\n" + "\n".join(lines)
    assert len(lines) <= 4, f"{name}: {len(lines)} log lines for one malformed stream:\n" + "\n".join(lines)


def test_garbage_on_a_discard_listener_is_skipped_with_one_log_line(daemon):
    """link_errors = discard: 64 KiB without a start octet are skipped, reported once, and the link goes on."""
    mark = log_mark(daemon)
    garbage = bytes(b if b != 0x68 else 0x67 for b in os.urandom(65536))
    with legit_traffic(daemon):
        with RawMaster(daemon.ports["discard"], source="127.0.0.30") as master:
            master.send_raw(garbage)
            master.start_dt(timeout=5)
            assert master.request(iec104.gi(48), until_cause=iec104.COT_ACTTERM)[-1].cause == iec104.COT_ACTTERM
    discarded = [line for line in wait_log(daemon, "127.0.0.30", mark, "discarded") if "discarded" in line]
    assert len(discarded) == 1, discarded
    assert "65536 octets" in discarded[0], discarded[0]


def test_frame_in_single_bytes_with_pauses(daemon):
    """STARTDT act and a GI arrive one octet at a time, 50 ms apart: framed and answered, no log line per octet."""
    address = "127.0.0.31"
    mark = log_mark(daemon)
    with legit_traffic(daemon):
        with RawMaster(daemon.port, source=address) as master:
            for octet in iec104.STARTDT_ACT:
                master.send_raw(bytes([octet]))
                time.sleep(0.05)
            assert master.next_apdu(2.0) == iec104.STARTDT_CON
            asdu = iec104.gi(48)
            frame = bytes([0x68, 4 + len(asdu)]) + struct.pack("<HH", 0, 0) + asdu
            for octet in frame:
                master.send_raw(bytes([octet]))
                time.sleep(0.05)
            master.send_seq = 1
            replies = master.until(lambda a: a.type_id == iec104.C_IC_NA_1 and a.cause == iec104.COT_ACTTERM, 3.0)
            assert replies[0].cause == iec104.COT_ACTCON, replies
            assert {o.ioa for a in replies[1:-1] for o in a.objects} == {6001, 1101}, replies
    lines = wait_log(daemon, address, mark, "disconnected")
    assert len(lines) <= 3, "\n".join(lines)


def test_i_frames_before_startdt_get_no_data(daemon):
    """I-frames before STARTDT: the daemon sends no I-frame back and closes the link (protocol error)."""
    address = "127.0.0.32"
    mark = log_mark(daemon)
    with legit_traffic(daemon):
        with RawMaster(daemon.port, source=address) as master:
            for _ in range(20):
                master.send_asdu(iec104.gi(48))
            closed = master.wait_closed(START_TIMEOUT + SLACK)
            assert [f for f in master.received if f[2] & 1 == 0] == [], master.received
            assert closed, "I-frames before STARTDT: the link stays open"
    lines = wait_log(daemon, address, mark, "disconnected")
    assert len([line for line in lines if "closing connection" in line]) == 1, "\n".join(lines)


def test_acknowledging_unsent_frames_closes_only_that_link(daemon):
    address = "127.0.0.33"
    mark = log_mark(daemon)
    with legit_traffic(daemon):
        with RawMaster(daemon.port, source=address) as master:
            master.start_dt()
            for n in (100, 200, 300):
                try:
                    master.send_raw(bytes([0x68, 4, 0x01, 0]) + struct.pack("<H", n << 1))
                except (BrokenPipeError, ConnectionResetError):
                    break  # the daemon already closed the link on the first one, as it should
            assert master.wait_closed(2.0)
    lines = wait_log(daemon, address, mark, "disconnected")
    closing = [line for line in lines if "closing connection" in line]
    assert len(closing) == 1 and "acknowledg" in closing[0].lower(), "\n".join(lines)


def test_master_beyond_k_unacknowledged_i_frames(daemon):
    """The master sends 3k I-frames back to back without waiting for an acknowledgement: the daemon
    takes them all in order and acknowledges them (its receive side has no k limit to break)."""
    address = "127.0.0.34"
    unanswered = iec104.build_asdu(iec104.C_CD_NA_1, iec104.COT_SPONTANEOUS, 48, [(0, b"\x10\x00")])
    with legit_traffic(daemon):
        with RawMaster(daemon.port, source=address) as master:
            master.start_dt()
            for _ in range(36):
                master.send_asdu(unanswered)
            acknowledged = 0
            deadline = time.monotonic() + 3
            while acknowledged < 36 and time.monotonic() < deadline:
                frame = master.next_apdu(max(deadline - time.monotonic(), 0.01))
                if frame[2] & 3 == 1 or frame[2] & 1 == 0:
                    acknowledged = max(acknowledged, struct.unpack("<H", frame[4:6])[0] >> 1)
            assert acknowledged == 36, f"acknowledged up to {acknowledged} of 36"
            assert master.request(iec104.gi(48), until_cause=iec104.COT_ACTTERM)[-1].cause == iec104.COT_ACTTERM


def test_master_that_never_acknowledges_is_closed_after_t1_and_gets_the_events_again(daemon):
    """Station forgetful (127.0.0.9, t1 = 2 s): the master takes I-frames but never sends an S-frame.
    t1 closes the link; after reconnect + STARTDT every event is there (the unacknowledged ones again)."""
    address = "127.0.0.9"
    mark = log_mark(daemon)
    count = 40
    with legit_traffic(daemon):
        silent = RawMaster(daemon.port, source=address, ack=False)
        silent.start_dt()
        feeder = Feeder(daemon.control_socket, [(49, 7001)], count, batch=1, pause=0.01)
        feeder.start()
        feeder.finish()
        first = []
        opened = time.monotonic()
        while True:
            try:
                first.append(silent.next_asdu(T1 + SLACK + 1))
            except (TimeoutError, iec104.LinkClosed):
                break
        closed = silent.closed or silent.wait_closed(T1 + SLACK)
        elapsed = time.monotonic() - opened
        silent.close()
        assert closed, "a master that never acknowledges was not closed"
        assert elapsed <= T1 + SLACK + 1, f"closed after {elapsed:.1f} s, t1 = {T1} s"
        assert float_values(first).get(7001), "the silent master got no event at all"
        with RawMaster(daemon.port, source=address) as again:
            again.start_dt()
            events = again.collect(1.5)
        check_numbered(float_values(first).get(7001, []) + float_values(events).get(7001, []), count)
        check_numbered(float_values(events).get(7001, []), count)
    lines = attack_log(daemon, address, mark)
    assert any("closing connection" in line for line in lines), "\n".join(lines)


def test_connections_that_never_start_are_closed_after_start_timeout(daemon):
    address = "127.0.0.35"
    mark = log_mark(daemon)
    with legit_traffic(daemon):
        socks = [connect(daemon.port, address) for _ in range(LIMIT_PER_ADDRESS)]
        opened = time.monotonic()
        try:
            for sock in socks:
                closed, got = drain_until_closed(sock, START_TIMEOUT + SLACK + 1)
                assert closed and got == b"", (closed, got)
        finally:
            for sock in socks:
                sock.close()
        elapsed = time.monotonic() - opened
        assert START_TIMEOUT - 0.2 <= elapsed <= START_TIMEOUT + SLACK + 1, elapsed
    lines = wait_log(daemon, address, mark, "disconnected")
    assert len([line for line in lines if "no STARTDT" in line]) == LIMIT_PER_ADDRESS, "\n".join(lines)


def refused_at_once(sock: socket.socket) -> bool:
    closed, got = drain_until_closed(sock, 0.5)
    return closed and got == b""


def test_flood_from_one_address_is_refused_beyond_the_per_address_limit(daemon):
    address = "127.0.2.1"
    mark = log_mark(daemon)
    with legit_traffic(daemon):
        socks = [connect(daemon.port, address) for _ in range(20)]
        try:
            refused = [refused_at_once(sock) for sock in socks]
        finally:
            for sock in socks:
                sock.close()
        assert refused.count(False) == LIMIT_PER_ADDRESS, refused
        assert refused[:LIMIT_PER_ADDRESS] == [False] * LIMIT_PER_ADDRESS, refused
    lines = wait_log(daemon, address, mark, "not logged one by one", timeout=REFUSAL_WINDOW + 3)
    refusals = [line for line in lines if "refused connection: address at its connection limit" in line]
    summaries = [line for line in lines if "not logged one by one" in line]
    assert len(refusals) == REFUSALS_LOGGED_PER_SOURCE, "\n".join(lines)
    assert len(summaries) == 1, "\n".join(lines)
    refused = 20 - LIMIT_PER_ADDRESS - REFUSALS_LOGGED_PER_SOURCE
    assert f"refused {refused} more connections from {address} in 10 s, not logged one by one: " \
        "address at its connection limit" in summaries[0], summaries[0]


def test_flood_from_many_addresses_is_refused_beyond_the_listener_limit(daemon):
    """The listener holds 12; the working master holds one: 11 of 30 flood connections are taken."""
    mark = log_mark(daemon)
    with legit_traffic(daemon):
        time.sleep(0.3)  # connections of earlier tests are gone
        socks = [connect(daemon.port, f"127.0.2.{10 + index}") for index in range(30)]
        try:
            refused = [refused_at_once(sock) for sock in socks]
        finally:
            for sock in socks:
                sock.close()
        assert refused.count(False) == LIMIT_LISTENER - 1, refused
    # 19 addresses refused once each: one line each (under 5 per address and 100 in all), no summary.
    text = "\n".join(daemon.log_text().splitlines()[mark:])
    assert text.count("listener at its connection limit") == 30 - (LIMIT_LISTENER - 1), text


def test_half_open_master_is_closed_by_testfr_and_t1(daemon):
    """A master that vanishes without FIN (here: stops reading and answering after STARTDT): after t3
    the daemon sends TESTFR act, and t1 later closes the link."""
    address = "127.0.0.36"
    mark = log_mark(daemon)
    with legit_traffic(daemon):
        with connect(daemon.port, address) as sock:
            started(sock)
            opened = time.monotonic()
            closed, got = drain_until_closed(sock, T3 + T1 + SLACK + 1)
            elapsed = time.monotonic() - opened
            assert closed, "a silent master is still connected after t3 + t1"
            assert iec104.TESTFR_ACT in got, got.hex(" ")
            assert T3 + T1 - 0.5 <= elapsed <= T3 + T1 + SLACK + 1, f"closed after {elapsed:.1f} s"
    lines = wait_log(daemon, address, mark, "disconnected")
    assert len([line for line in lines if "closing connection" in line]) == 1, "\n".join(lines)


def test_peer_that_floods_and_never_reads_is_bounded_and_closed(daemon):
    """A peer sends TESTFR act for 3 s as fast as it can and never reads the confirmations: once the
    kernel buffers are full the daemon stops reading it at its output watermark (its memory stays
    bounded), and with nothing read t3 + t1 close it — seen in the status, as the peer never reads."""
    address = "127.0.0.37"
    mark = log_mark(daemon)
    before = proc_figures(daemon.process.pid)["rss_kib"]
    with legit_traffic(daemon):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.bind((address, 0))
        sock.settimeout(3)
        sock.connect(("127.0.0.1", daemon.port))
        with sock:
            started(sock)
            sock.setblocking(False)
            flood = iec104.TESTFR_ACT * 10000
            sent = 0
            flood_until = time.monotonic() + 3.0
            # At most 2 MB: beyond that the kernel's buffers, not the daemon, decide how long the backlog takes to
            # work through (a debug build on a loaded machine takes seconds for millions of frames).
            while time.monotonic() < flood_until and sent < 2_000_000:
                try:
                    sent += sock.send(flood)
                except BlockingIOError:
                    time.sleep(0.02)
                except (BrokenPipeError, ConnectionResetError):
                    break
            after = proc_figures(daemon.process.pid)["rss_kib"]
            # The backlog of up to 2 MB is worked through before t3 and t1 can run: on a CI machine busy with
            # builds a debug daemon took more than 10 s for it (closed 1 s after a 14.5 s deadline).
            deadline = time.monotonic() + T3 + T1 + SLACK + 30
            with Control(daemon.control_socket) as control:
                while True:
                    peers = [c["peer"] for s in control.status().values() for c in s["connections"]]
                    if address not in peers or time.monotonic() > deadline:
                        break
                    time.sleep(0.1)
            assert address not in peers, f"the flooding peer is still connected ({sent} octets sent)"
    assert after - before < 16 * 1024, f"RSS grew by {after - before} KiB while a peer flooded {sent} octets"
    lines = wait_log(daemon, address, mark, "closing")
    assert len([line for line in lines if "closing connection" in line]) == 1, "\n".join(lines)


def test_address_outside_every_filter_is_refused(daemon):
    """Listener strict admits 127.0.0.1 only: 20 connections from 127.0.0.38 are closed at once; the first five are
    logged one by one, the other 15 in one summary line."""
    address = "127.0.0.38"
    mark = log_mark(daemon)
    with legit_traffic(daemon):
        for _ in range(20):
            with connect(daemon.ports["strict"], address) as sock:
                try:
                    sock.sendall(iec104.STARTDT_ACT + iec104.gi(48))
                except OSError:
                    pass
                assert refused_at_once(sock)
    lines = wait_log(daemon, address, mark, "not logged one by one", timeout=REFUSAL_WINDOW + 3)
    assert len([line for line in lines if "refused connection: no station admits this address" in line]) \
        == REFUSALS_LOGGED_PER_SOURCE, "\n".join(lines)
    assert [line for line in lines if "not logged one by one" in line][0].count(
        f"refused 15 more connections from {address} in 10 s, not logged one by one: no station admits this address") == 1
