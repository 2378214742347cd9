"""What an operator reads in the log (issue 13): a flood of refused requests and a reconnect storm are
written as a few lines and a summary, and every command leaves exactly one audit line at notice with who,
what, the handler and its result. The check that no daemon log of the session shows Swift internals is
the session fixture `no_swift_internals_in_logs` in conftest.py."""

import json
import re
import socket
import time
from pathlib import Path

import pytest

import iec104
from conftest import Daemon, free_port, swift_internals
from iec104 import RawMaster

CONFIG = """
[daemon]
point_tables = points.json
state_directory = {directory}/state
runtime_directory = {directory}/run

[handler ok]
exec = /bin/sh
args = -c, exit 0

[handler fails]
exec = /bin/sh
args = -c, exit 3

[listener main]
bind = 127.0.0.1:{port}
max_connections_per_address = 64

[station scada]
allow = 127.0.0.1
common_addresses = 47
"""

POINTS = [
    {"ioa": 1001, "type": "single"},
    {"ioa": 2001, "command": "single", "feedback": 1001, "handler": "ok"},
    {"ioa": 2801, "command": "single", "handler": "fails"},
]

SUMMARY = "not logged one by one"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    directory: Path = tmp_path_factory.mktemp("operator-logs")
    ports = {"main": free_port()}
    instance = Daemon("operator-logs", directory, ports)
    (directory / "points.json").write_text(json.dumps({"points": [{"ca": 47, **point} for point in POINTS]}))
    instance.config_path.write_text(CONFIG.format(directory=directory, port=ports["main"]))
    instance.start()
    yield instance
    instance.stop()


def lines_since(daemon: Daemon, mark: int) -> list[str]:
    return daemon.log_text().splitlines()[mark:]


def wait_for_line(daemon: Daemon, mark: int, predicate, timeout: float) -> list[str]:
    """Waits for a line after `mark` that satisfies `predicate`; returns every line after `mark`."""
    deadline = time.monotonic() + timeout
    while True:
        lines = lines_since(daemon, mark)
        if any(predicate(line) for line in lines):
            return lines
        assert time.monotonic() < deadline, f"no such line within {timeout} s:\n" + "\n".join(lines[-30:])
        time.sleep(0.2)


def quiet_window(daemon: Daemon) -> int:
    """The line count once a previous test's limiter windows (10 s) have had time to close."""
    return len(daemon.log_text().splitlines())


def test_unknown_common_address_flood_writes_at_most_100_lines_and_a_summary(daemon):
    mark = quiet_window(daemon)
    with RawMaster(daemon.port) as master:
        master.start_dt()
        for _ in range(2000):
            replies = master.request(iec104.gi(99), timeout=5.0)
            assert replies[-1].cause == 46 and replies[-1].negative
    lines = wait_for_line(daemon, mark, lambda l: SUMMARY in l and "unknown common address" in l, timeout=20.0)
    refused = [l for l in lines if "refused with unknown common address" in l]
    assert 1 <= len(refused) <= 10, "\n".join(refused)
    assert len(lines) <= 100, f"{len(lines)} lines for 2,000 refused GIs:\n" + "\n".join(lines[:120])
    # One vocabulary of fields, with the peer on a refused request.
    first = refused[0]
    for field in ("listener=main", "station=scada", "peer=127.0.0.1", "ca=99", "type=C_IC_NA_1",
                  "cot=unknown common address of ASDU"):
        assert field in first, f"{field!r} missing in {first!r}"
    summary = next(l for l in lines if SUMMARY in l)
    assert re.search(r"refused \d+ more requests from 127\.0\.0\.1 in 10 s", summary), summary
    total = sum(int(m) for m in re.findall(r"refused (\d+) more requests from 127\.0\.0\.1", "\n".join(lines)))
    assert len(refused) + total == 2000, f"{len(refused)} lines + {total} summarised != 2,000"


def test_reconnect_storm_is_bounded(daemon):
    time.sleep(10.5)  # the previous test's request window is closed; churn has its own limiter anyway
    mark = quiet_window(daemon)
    for _ in range(500):
        sock = socket.create_connection(("127.0.0.1", daemon.port), timeout=3.0)
        sock.close()
    lines = wait_for_line(daemon, mark, lambda l: SUMMARY in l and "connection event" in l, timeout=20.0)
    time.sleep(0.5)
    lines = lines_since(daemon, mark)
    churn = [l for l in lines if "master connected" in l or "master disconnected" in l or "replaced" in l]
    assert 1 <= len(churn) <= 60, "\n".join(churn)
    assert len(lines) <= 100, f"{len(lines)} lines for 500 connections:\n" + "\n".join(lines[:120])
    assert any(re.search(r"\d+ more connection events \(connect, replace, close, disconnect\) from 127\.0\.0\.1", l)
               for l in lines), "\n".join(lines)


def audit_lines(daemon: Daemon, mark: int, ioa: int) -> list[str]:
    return [l for l in lines_since(daemon, mark) if "event=command" in l and f"ioa={ioa}" in l]


def wait_for_audit(daemon: Daemon, mark: int, ioa: int, count: int) -> list[str]:
    deadline = time.monotonic() + 10.0
    while len(audit_lines(daemon, mark, ioa)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # a second line for the same command would show up here
    return audit_lines(daemon, mark, ioa)


def test_direct_command_with_failing_handler_has_one_negative_audit_line(daemon):
    mark = quiet_window(daemon)
    with RawMaster(daemon.port) as master:
        master.start_dt()
        replies = master.request(iec104.single_command(47, 2801, True), timeout=10.0)
        assert replies[-1].cause == iec104.COT_ACTCON and replies[-1].negative
    lines = wait_for_audit(daemon, mark, 2801, 1)
    assert len(lines) == 1, "\n".join(lines)
    line = lines[0]
    assert " notice " in line, line
    assert "command C_SC_NA_1 on, QU=0 on 47:2801 from 127.0.0.1 (station 'scada'): negative" in line, line
    for field in ("listener=main", "station=scada", "peer=127.0.0.1", "ca=47", "ioa=2801", "type=C_SC_NA_1", "phase=execute",
                  "handler=fails", "result=negative", "reason=", "duration_ms="):
        assert field in line, f"{field!r} missing in {line!r}"


def test_select_and_execute_have_one_positive_audit_line_each(daemon):
    mark = quiet_window(daemon)
    with RawMaster(daemon.port) as master:
        master.start_dt()
        select = master.request(iec104.single_command(47, 2001, True, select=True), timeout=10.0)
        assert select[-1].cause == iec104.COT_ACTCON and not select[-1].negative
        execute = master.request(iec104.single_command(47, 2001, True), timeout=10.0)
        assert execute[-1].cause == iec104.COT_ACTCON and not execute[-1].negative
    lines = wait_for_audit(daemon, mark, 2001, 2)
    assert len(lines) == 2, "\n".join(lines)
    assert "C_SC_NA_1 select on, QU=0" in lines[0] and "phase=select" in lines[0], lines[0]
    assert "phase=execute" in lines[1] and "select" not in lines[1].split("phase=")[0].split("command ")[-1], lines[1]
    for line in lines:
        for field in ("listener=main", "station=scada", "peer=127.0.0.1", "handler=ok", "result=positive", "duration_ms="):
            assert field in line, f"{field!r} missing in {line!r}"


def test_this_daemons_log_has_no_swift_internals(daemon):
    assert swift_internals(daemon.log_text()) == []
