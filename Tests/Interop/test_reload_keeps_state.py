"""Reloads that keep state, and a reload's outcome in `rtu104ctl status`, over real TCP and the control socket.

A persistent handler (tap-changer) counts the commands it has carried out in its own memory and reports the
count as return information; a feeder (sine) counts up from 1. Both write their PID to a file. A reload that
adds an unrelated station must leave both running (same PID, the count goes on); a reload that changes the
handler's section must restart it (new PID, the count starts over) and leave the feeder alone. A broken
configuration must show in `rtu104ctl status` (text and --json) as a failed last reload with its message.
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest

import iec104
from conftest import BINARY, Daemon, free_port
from iec104 import RawMaster
from robust import Control

TAP_CHANGER = """#!/usr/bin/env python3
import json, os, sys
with open("tap-changer.pid", "w") as f:
    f.write(str(os.getpid()))
done = 0
for line in sys.stdin:
    request = json.loads(line)
    if request.get("cancel"):
        continue
    done += 1
    updates = [{"point": "47:1001", "value": request["value"]}, {"point": "47:1002", "value": done}]
    sys.stdout.write(json.dumps({"id": request["id"], "ok": True, "updates": updates}) + "\\n")
    sys.stdout.flush()
"""

SINE = """#!/bin/sh
echo $$ > sine.pid
i=0
while true; do
    i=$((i + 1))
    echo "{\\"point\\":\\"47:3001\\",\\"value\\":$i}"
    sleep 0.1
done
"""

CONFIG = """
[daemon]
point_tables = {tables}
state_directory = {directory}/state
runtime_directory = {directory}/run

[handler tap-changer]
exec = {directory}/tap-changer.py
mode = persistent
{handler_extra}
[feeder sine]
exec = {directory}/sine.sh

[listener main]
bind = 127.0.0.1:{port}

[station scada]
allow = 127.0.0.1
common_addresses = 47
{stations}"""

SUB_B_STATION = """
[station sub-b]
allow = 127.0.0.2
common_addresses = 48
"""

POINTS = {"points": [
    {"ca": 47, "ioa": 1001, "type": "single"},
    {"ca": 47, "ioa": 1002, "type": "scaled"},
    {"ca": 47, "ioa": 3001, "type": "scaled"},
    {"ca": 47, "ioa": 2001, "command": "single", "feedback": 1001, "handler": "tap-changer"},
]}

# The new station's own INI table: four monitor points and one command point.
SUB_B_TABLE = """
[point 48:1]
type = single
[point 48:2]
type = double
[point 48:3]
type = float
[point 48:4]
type = scaled
[command 48:100]
command = single
feedback = 1
"""


class Site:
    """A daemon in its own directory whose configuration the test rewrites and reloads."""

    def __init__(self, directory):
        self.directory = directory
        self.port = free_port()
        self.daemon = Daemon("reload-keeps-state", directory, {"main": self.port})
        for name, text in (("tap-changer.py", TAP_CHANGER), ("sine.sh", SINE)):
            (directory / name).write_text(text)
            (directory / name).chmod(0o755)
        (directory / "points.json").write_text(json.dumps(POINTS))
        (directory / "sub-b.ini").write_text(SUB_B_TABLE)
        self.write()

    def write(self, sub_b: bool = False, handler_extra: str = "") -> None:
        self.daemon.config_path.write_text(CONFIG.format(
            tables="points.json, sub-b.ini" if sub_b else "points.json", directory=self.directory,
            handler_extra=handler_extra, port=self.port, stations=SUB_B_STATION if sub_b else ""))

    def pid(self, name: str) -> int | None:
        try:
            text = (self.directory / f"{name}.pid").read_text().strip()
        except FileNotFoundError:
            return None
        return int(text) if text else None

    def wait_for_pid(self, name: str, other_than: int | None = None, timeout: float = 5.0) -> int:
        deadline = time.monotonic() + timeout
        while True:
            pid = self.pid(name)
            if pid is not None and pid != other_than and alive(pid):
                return pid
            assert time.monotonic() < deadline, f"{name} did not write a (new) PID:\n{self.daemon.log_tail(40)}"
            time.sleep(0.05)

    def control(self, request: dict, timeout: float = 10.0) -> dict:
        with Control(self.daemon.control_socket, timeout=timeout) as control:
            return control.request(request)

    def value(self, point: str):
        return self.control({"op": "get", "points": [point]})["points"][0]["value"]

    def ctl(self, *arguments: str) -> subprocess.CompletedProcess:
        ctl = BINARY.parent / "rtu104ctl"
        if not ctl.exists():
            pytest.fail(f"{ctl} is missing; build it with `swift build --product rtu104ctl`")
        return subprocess.run([str(ctl), *arguments], env={**os.environ, "RTU104_SOCKET": str(self.daemon.control_socket)},
                              capture_output=True, text=True, timeout=10)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def tap(master: RawMaster, on: bool) -> int:
    """Sends C_SC_NA_1 to 47:2001 and returns the handler's count from the return information (COT 11)."""
    replies = master.request(iec104.single_command(47, 2001, on), until_cause=iec104.COT_ACTTERM)
    actcon = [a for a in replies if a.type_id == iec104.C_SC_NA_1 and a.cause == iec104.COT_ACTCON]
    assert actcon and not actcon[0].negative, f"no positive ACTCON: {replies}"
    counts = [obj.value for a in replies if a.cause == iec104.COT_RETURN_REMOTE for obj in a.objects if obj.ioa == 1002]
    assert counts, f"no return information for 47:1002: {replies}"
    return counts[-1]


@pytest.fixture
def site(tmp_path):
    instance = Site(tmp_path)
    instance.daemon.start()
    yield instance
    instance.daemon.stop()


def test_adding_an_unrelated_station_keeps_the_coprocess_and_the_feeder(site):
    tap_pid = site.wait_for_pid("tap-changer")
    sine_pid = site.wait_for_pid("sine")
    with RawMaster(site.port) as master:
        master.start_dt()
        master.collect(0.2)
        assert tap(master, True) == 1
        time.sleep(1.0)  # let the feeder count up
        counted = site.value("47:3001")
        assert counted >= 5, f"the feeder has not counted: {counted}"

        site.write(sub_b=True)
        reply = site.control({"op": "reload"})
        assert reply["ok"] is True, reply
        assert reply["message"] == ("configuration reloaded: stations: 1 added (sub-b), 1 unchanged; "
                                    "points: 4 monitor added, 1 command added; "
                                    "handlers: tap-changer kept; feeders: sine kept"), reply["message"]

        assert site.pid("tap-changer") == tap_pid and alive(tap_pid), "the coprocess was restarted"
        assert site.pid("sine") == sine_pid and alive(sine_pid), "the feeder was restarted"
        assert site.value("47:3001") >= counted, "the feeder started counting over"
        assert tap(master, False) == 2, "the coprocess lost its count"
        assert not master.closed, "the master of the unchanged station was disconnected"
    assert site.control({"op": "get", "points": ["48:3"]})["ok"], "the new station's points are served"


def test_a_changed_handler_is_restarted_and_the_feeder_kept(site):
    tap_pid = site.wait_for_pid("tap-changer")
    sine_pid = site.wait_for_pid("sine")
    with RawMaster(site.port) as master:
        master.start_dt()
        master.collect(0.2)
        assert tap(master, True) == 1
        assert tap(master, True) == 2

        site.write(handler_extra="environment = TAP_STEPS=33\n")
        reply = site.control({"op": "reload"})
        assert reply["ok"] is True, reply
        assert reply["message"].endswith("handlers: tap-changer restarted; feeders: sine kept"), reply["message"]
        assert "points: unchanged" in reply["message"]

        new_pid = site.wait_for_pid("tap-changer", other_than=tap_pid)
        assert not alive(tap_pid), "the old coprocess is still running"
        assert tap(master, True) == 1, "the new coprocess counts afresh"
        assert site.pid("tap-changer") == new_pid
        assert site.pid("sine") == sine_pid and alive(sine_pid)
        assert not master.closed


ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_status_shows_the_daemon_and_a_failed_reload(site):
    before = site.ctl("status", "--json")
    assert before.returncode == 0, before.stderr
    daemon = json.loads(before.stdout)["daemon"]
    assert daemon["pid"] == site.daemon.process.pid
    assert ISO_UTC.match(daemon["started"]), daemon["started"]
    assert daemon["config"] == str(site.daemon.config_path)
    assert daemon["last_reload"] is None
    text = site.ctl("status")
    assert text.returncode == 0, text.stderr
    assert f"daemon pid {site.daemon.process.pid}  started {daemon['started']}  config {site.daemon.config_path}" \
        in text.stdout
    assert "no reload since the start" in text.stdout

    # A broken point table, reloaded with SIGHUP: kill returns 0, the daemon keeps the old configuration.
    (site.directory / "points.json").write_text('{"points": [{"ca": 47, "ioa": 1001, "type": "single"')
    os.kill(site.daemon.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "the running configuration stays" not in site.daemon.log_text():
        assert time.monotonic() < deadline, site.daemon.log_tail(40)
        time.sleep(0.05)

    # At level error: the level comes before the message on the line.
    logged = [line for line in site.daemon.log_text().splitlines() if "reload failed with" in line]
    assert any(re.search(r"\berror\b", line.split("reload failed with")[0]) for line in logged), logged

    failed = site.ctl("status", "--json")
    assert failed.returncode == 0, failed.stderr
    reload = json.loads(failed.stdout)["daemon"]["last_reload"]
    assert reload["ok"] is False
    assert ISO_UTC.match(reload["time"]), reload
    assert "points.json:1" in reload["message"] and "the running configuration stays" in reload["message"], reload
    text = site.ctl("status")
    assert re.search(r"^  last reload \S+Z FAILED: reload failed .*points\.json:1", text.stdout, re.MULTILINE), text.stdout
    for dump in ("Optional(", "IEC104.", "rawValue:"):
        assert dump not in text.stdout and dump not in failed.stdout

    # Mended, the next reload is ok again.
    (site.directory / "points.json").write_text(json.dumps(POINTS))
    mended = site.ctl("reload")
    assert mended.returncode == 0, mended.stderr
    reload = json.loads(site.ctl("status", "--json").stdout)["daemon"]["last_reload"]
    assert reload["ok"] is True and reload["message"].startswith("configuration reloaded: "), reload
    assert " ok: configuration reloaded: " in site.ctl("status").stdout
