"""Commands from the c104 master through the real daemon to real handler scripts, over TCP.

The scripts (written per test module) leave evidence files — their RTU104_* variables and the JSON
they read — and print the feedback point's new value. Every command type is sent direct and with
select-before-operate, with and without time tag; failing, crashing and hanging handlers must give a
negative ACTCON; a deactivation withdraws a running command; a value set with `rtu104ctl set`
reaches the c104 master as a spontaneous event with its value, quality and time tag; and a second
SIGTERM ends a slow stop at once.
"""

import datetime
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import c104
import pytest

import iec104
from c104master import C104Master
from conftest import BINARY, Daemon, free_port
from expect import assert_mirror
from iec104 import RawMaster

EVIDENCE_SCRIPT = """#!/bin/sh
# Writes what it was given, then reports the commanded state on the feedback point.
n=$(ls "$EVIDENCE" | wc -l)
file="$EVIDENCE/$RTU104_IOA-$n.txt"
env | grep '^RTU104_' | sort > "$file"
echo "stdin: $(cat)" >> "$file"
[ "$RTU104_SELECT" = 1 ] && exit 0
case "$RTU104_COMMAND" in
    step) exit 0 ;;
esac
[ -n "$RTU104_FEEDBACK" ] && printf '{"point":"%s","value":"%s"}\\n' "$RTU104_FEEDBACK" "$RTU104_VALUE"
exit 0
"""

PERSISTENT_SCRIPT = """#!/usr/bin/env python3
import json, os, sys
for line in sys.stdin:
    request = json.loads(line)
    if request.get("cancel"):
        continue
    with open(os.path.join(os.environ["EVIDENCE"], "persistent-%d.json" % request["id"]), "w") as out:
        out.write(line)
    updates = [] if request["select"] else [{"point": request["feedback"], "value": request["value"]}]
    sys.stdout.write(json.dumps({"id": request["id"], "ok": True, "updates": updates}) + "\\n")
    sys.stdout.flush()
"""

SLOW_SCRIPT = """#!/bin/sh
trap 'echo killed > "$EVIDENCE/slow-killed"' TERM
sleep 3
echo done > "$EVIDENCE/slow-done"
"""

STUBBORN_FEEDER = """#!/bin/sh
trap '' TERM
while true; do sleep 0.1; done
"""

CONFIG = """
[daemon]
point_tables = points.json
state_directory = {directory}/state
runtime_directory = {directory}/run
command_max_age = 60s

[handler evidence]
exec = {directory}/evidence.sh
environment = EVIDENCE={directory}/evidence
timeout = 5s

[handler persistent]
exec = {directory}/persistent.py
mode = persistent
environment = EVIDENCE={directory}/evidence

[handler fails]
exec = /bin/sh
args = -c, exit 3

[handler crashes]
exec = /bin/sh
args = -c, kill -9 $$

[handler hangs]
exec = /bin/sleep
args = 30
timeout = 1s

[handler slow]
exec = {directory}/slow.sh
environment = EVIDENCE={directory}/evidence
timeout = 10s
{feeder}
[listener main]
bind = 127.0.0.1:{port}

[station scada]
allow = 127.0.0.1
common_addresses = 47
"""

MONITOR = [
    {"ioa": 1001, "type": "single"}, {"ioa": 1101, "type": "double", "value": "off"},
    {"ioa": 1201, "type": "step", "value": 3}, {"ioa": 1301, "type": "bitstring"},
    {"ioa": 1401, "type": "normalized"}, {"ioa": 1501, "type": "scaled"}, {"ioa": 1601, "type": "float"},
    {"ioa": 1701, "type": "single"}, {"ioa": 3001, "type": "float", "time_tag": True},
]
COMMANDS = [
    {"ioa": 2001, "command": "single", "feedback": 1001, "handler": "evidence"},
    {"ioa": 2101, "command": "double", "feedback": 1101, "handler": "evidence"},
    {"ioa": 2201, "command": "step", "feedback": 1201, "handler": "evidence"},
    {"ioa": 2301, "command": "bitstring", "feedback": 1301, "handler": "evidence"},
    {"ioa": 2401, "command": "normalized", "feedback": 1401, "handler": "evidence"},
    {"ioa": 2501, "command": "scaled", "feedback": 1501, "handler": "evidence"},
    {"ioa": 2601, "command": "float", "feedback": 1601, "handler": "evidence"},
    {"ioa": 2701, "command": "single", "feedback": 1701, "handler": "persistent"},
    {"ioa": 2801, "command": "single", "handler": "fails"},
    {"ioa": 2802, "command": "single", "handler": "crashes"},
    {"ioa": 2803, "command": "single", "handler": "hangs"},
    {"ioa": 2804, "command": "single", "handler": "slow"},
]


def make_daemon(directory: Path, feeder: str = "") -> Daemon:
    ports = {"main": free_port()}
    daemon = Daemon("handlers", directory, ports)
    (directory / "evidence").mkdir()
    for name, text in (("evidence.sh", EVIDENCE_SCRIPT), ("persistent.py", PERSISTENT_SCRIPT), ("slow.sh", SLOW_SCRIPT),
                       ("stubborn.sh", STUBBORN_FEEDER)):
        (directory / name).write_text(text)
        (directory / name).chmod(0o755)
    (directory / "points.json").write_text(json.dumps(
        {"points": [{"ca": 47, **point} for point in MONITOR + COMMANDS]}))
    daemon.config_path.write_text(CONFIG.format(directory=directory, port=ports["main"], feeder=feeder))
    daemon.start()
    return daemon


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    instance = make_daemon(tmp_path_factory.mktemp("handlers"))
    yield instance
    instance.stop()


def now_utc() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def evidence(daemon: Daemon, ioa: int) -> list[dict[str, str]]:
    """The evidence files of one point, oldest first: their RTU104_* variables and stdin."""
    files = sorted((daemon.directory / "evidence").glob(f"{ioa}-*.txt"), key=lambda p: int(p.stem.split("-")[1]))
    out = []
    for file in files:
        entries = {}
        for line in file.read_text().splitlines():
            key, _, value = line.partition("=") if not line.startswith("stdin: ") else ("stdin", "", line[7:])
            entries[key] = value
        out.append(entries)
    return out


def command(daemon, ioa, type_id, info, mode=c104.CommandMode.DIRECT):
    """One command through a fresh c104 master: (requests sent, ASDUs received once quiet)."""
    with C104Master(daemon.port, [47], command_timeout_ms=6000) as master:
        point = master.stations[47].add_point(io_address=ioa, type=c104.Type(type_id), command_mode=mode)
        point.info = info
        since, since_sent = master.mark(), len(master.sent)
        point.transmit(cause=c104.Cot.ACTIVATION)
        received = master.settle(since, quiet=0.6, timeout=8.0)
        requests = [asdu.raw for asdu in (iec104.asdu_of_apdu(f) for f in master.sent[since_sent:])
                    if asdu is not None and asdu.type_id == type_id]
        return requests, received


SBO = c104.CommandMode.SELECT_AND_EXECUTE

CASES = [
    # (ioa, type, info, mode, feedback type, feedback value, RTU104_VALUE)
    (2001, iec104.C_SC_NA_1, lambda: c104.SingleCmd(on=True), c104.CommandMode.DIRECT, iec104.M_SP_NA_1, True, "on"),
    (2001, iec104.C_SC_TA_1, lambda: c104.SingleCmd(on=False, recorded_at=now_utc()), SBO, iec104.M_SP_NA_1, False, "off"),
    (2101, iec104.C_DC_NA_1, lambda: c104.DoubleCmd(state=c104.Double.ON), SBO, iec104.M_DP_NA_1, 2, "on"),
    (2101, iec104.C_DC_TA_1, lambda: c104.DoubleCmd(state=c104.Double.OFF, recorded_at=now_utc()), c104.CommandMode.DIRECT,
     iec104.M_DP_NA_1, 1, "off"),
    (2201, iec104.C_RC_NA_1, lambda: c104.StepCmd(direction=c104.Step.HIGHER), c104.CommandMode.DIRECT, None, None, "higher"),
    (2201, iec104.C_RC_TA_1, lambda: c104.StepCmd(direction=c104.Step.LOWER, recorded_at=now_utc()), SBO, None, None, "lower"),
    (2301, iec104.C_BO_NA_1, lambda: c104.BinaryCmd(blob=c104.Byte32(b"\xff\x00\x00\x00")), c104.CommandMode.DIRECT,
     iec104.M_BO_NA_1, 255, "255"),
    (2401, iec104.C_SE_NA_1, lambda: c104.NormalizedCmd(target=c104.NormalizedFloat(0.5)), SBO, iec104.M_ME_NA_1, 0.5, "0.5"),
    (2501, iec104.C_SE_TB_1, lambda: c104.ScaledCmd(target=c104.Int16(-1234), recorded_at=now_utc()), c104.CommandMode.DIRECT,
     iec104.M_ME_NB_1, -1234, "-1234"),
    (2601, iec104.C_SE_NC_1, lambda: c104.ShortCmd(target=231.5), c104.CommandMode.DIRECT, iec104.M_ME_NC_1, 231.5, "231.5"),
    (2601, iec104.C_SE_TC_1, lambda: c104.ShortCmd(target=-7.25, recorded_at=now_utc()), SBO, iec104.M_ME_NC_1, -7.25, "-7.25"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case[0]}-type{case[1]}-{'sbo' if case[3] == SBO else 'direct'}")
def test_every_command_type_reaches_its_script(daemon, case):
    ioa, type_id, info, mode, feedback_type, feedback_value, text_value = case
    before = len(evidence(daemon, ioa))
    requests, received = command(daemon, ioa, type_id, info(), mode)
    select = mode == SBO
    assert len(requests) == (2 if select else 1), [r.hex(" ") for r in requests]
    replies = list(received)
    if select:
        assert_mirror(replies.pop(0), requests[0], iec104.COT_ACTCON)
    assert_mirror(replies.pop(0), requests[-1], iec104.COT_ACTCON)
    if feedback_type is not None:
        event = replies.pop(0)
        assert (event.type_id, event.cause) == (feedback_type, iec104.COT_RETURN_REMOTE), event
        value = event.objects[0].value
        assert value == pytest.approx(feedback_value, abs=1e-4) if isinstance(feedback_value, float) else value == feedback_value
    assert_mirror(replies.pop(0), requests[-1], iec104.COT_ACTTERM)
    assert not replies, f"unexpected extra ASDUs: {replies}"

    runs = evidence(daemon, ioa)[before:]
    assert [run["RTU104_SELECT"] for run in runs] == (["1", "0"] if select else ["0"])
    for run in runs:
        assert run["RTU104_VALUE"] == text_value
        assert run["RTU104_TYPE"] == iec104_name(type_id)
        assert run["RTU104_STATION"] == "scada" and run["RTU104_PEER"] == "127.0.0.1"
        assert (run["RTU104_CA"], run["RTU104_IOA"]) == ("47", str(ioa))
        request = json.loads(run["stdin"])
        assert request["ioa"] == ioa and request["select"] == (run["RTU104_SELECT"] == "1")
        assert (run["RTU104_TIME"] != "") == (type_id >= 58)


def iec104_name(type_id: int) -> str:
    return {45: "C_SC_NA_1", 46: "C_DC_NA_1", 47: "C_RC_NA_1", 48: "C_SE_NA_1", 49: "C_SE_NB_1", 50: "C_SE_NC_1",
            51: "C_BO_NA_1", 58: "C_SC_TA_1", 59: "C_DC_TA_1", 60: "C_RC_TA_1", 61: "C_SE_TA_1", 62: "C_SE_TB_1",
            63: "C_SE_TC_1", 64: "C_BO_TA_1"}[type_id]


def test_persistent_handler_answers_through_its_coprocess(daemon):
    requests, received = command(daemon, 2701, iec104.C_SC_NA_1, c104.SingleCmd(on=True))
    assert [(a.cause, a.negative) for a in received] == [(iec104.COT_ACTCON, False), (iec104.COT_RETURN_REMOTE, False),
                                                         (iec104.COT_ACTTERM, False)], received
    assert received[1].objects[0].ioa == 1701 and received[1].objects[0].value is True
    files = list((daemon.directory / "evidence").glob("persistent-*.json"))
    assert any(json.loads(f.read_text())["ioa"] == 2701 for f in files)


@pytest.mark.parametrize("ioa", [2801, 2802, 2803], ids=["fails", "crashes", "hangs"])
def test_a_failing_handler_gives_a_negative_confirmation(daemon, ioa):
    started = time.monotonic()
    requests, received = command(daemon, ioa, iec104.C_SC_NA_1, c104.SingleCmd(on=True))
    assert len(received) == 1, received
    assert_mirror(received[0], requests[0], iec104.COT_ACTCON, negative=True)
    assert time.monotonic() - started < 15, "a hanging handler (sleep 30) is killed after its 1 s timeout"


def test_deactivation_withdraws_a_running_command(daemon):
    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.collect(0.2)
        execute = iec104.single_command(47, 2804, True)
        master.send_asdu(execute)
        time.sleep(0.5)  # the slow handler is running now
        deactivation = execute[:2] + bytes([iec104.COT_DEACTIVATION]) + execute[3:]
        replies = master.request(deactivation, until_cause=iec104.COT_DEACTCON)
        assert_mirror(replies[-1], deactivation, iec104.COT_DEACTCON)
        late = master.collect(3.5)
        assert not [a for a in late if a.cause == iec104.COT_ACTCON and not a.negative], \
            f"a withdrawn command must not be confirmed: {late}"
    assert not (daemon.directory / "evidence" / "slow-done").exists(), "the handler was stopped before it finished"


def test_rtu104ctl_set_reaches_the_c104_master(daemon):
    ctl = BINARY.parent / "rtu104ctl"
    if not ctl.exists():
        pytest.fail(f"{ctl} is missing; make interop builds it")
    stamp = int(now_utc().timestamp() * 1000) - 1500
    with C104Master(daemon.port, [47]) as master:
        since = master.mark()
        done = subprocess.run([str(ctl), "set", "47:3001=42.75", "--quality", "invalid", "--time", str(stamp)],
                              env={**os.environ, "RTU104_SOCKET": str(daemon.control_socket)},
                              capture_output=True, text=True, timeout=10)
        assert done.returncode == 0, done.stderr
        events = master.wait_for(lambda a: a.cause == iec104.COT_SPONTANEOUS, since, timeout=5.0)
        event = events[-1]
        assert event.type_id == iec104.M_ME_TF_1
        [obj] = event.objects
        assert (obj.ioa, obj.value, set(obj.quality)) == (3001, 42.75, {"invalid"})
        assert obj.time.unix_ms() == stamp


def test_a_second_sigterm_ends_a_slow_stop_at_once(tmp_path):
    """A feeder that ignores SIGTERM makes the orderly stop wait for SIGKILL (2 s); a second signal ends it now."""
    feeder = "\n[feeder stubborn]\nexec = {}/stubborn.sh\n".format(tmp_path)
    instance = make_daemon(tmp_path, feeder=feeder)
    try:
        time.sleep(0.5)
        started = time.monotonic()
        os.kill(instance.process.pid, signal.SIGTERM)
        time.sleep(0.3)
        os.kill(instance.process.pid, signal.SIGTERM)
        status = instance.process.wait(10)
        # The orderly stop would wait for the feeder's SIGKILL and exit 0; the second signal kills the daemon.
        assert status in (-signal.SIGTERM, 128 + signal.SIGTERM), f"exit status {status}: the stop was not cut short"
        assert time.monotonic() - started < 10
    finally:
        instance.kill()
        subprocess.run(["pkill", "-KILL", "-f", str(tmp_path / "stubborn.sh")], check=False)
