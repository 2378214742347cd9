"""rtu104ctl as the controlling station: its master subcommands against the real rtu104d (configs/main.conf,
points-main.json) and against a third-party outstation, c104's Server.

The rtu104ctl binary is taken from $RTU104CTL, else next to $RTU104D, else from `swift build --show-bin-path`.
"""

# No `from __future__ import annotations`: c104 checks callback annotations as real types.

import csv
import io
import json
import subprocess
import time
from pathlib import Path

import c104
import pytest

from conftest import CTL, accepts, free_port

RUN_TIMEOUT = 20



@pytest.fixture(scope="module")
def ctl():
    if not CTL.exists():
        pytest.skip(f"{CTL} is missing; build it with `swift build --product rtu104ctl`")
    return CTL


def run(ctl: Path, *arguments: str, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run([str(ctl), *arguments], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def station(daemon_factory):
    return daemon_factory("main")


def host(daemon) -> str:
    return f"127.0.0.1:{daemon.port}"


def points_table(ca: int | None = None) -> list[dict]:
    table = json.loads((Path(__file__).parent / "configs" / "points-main.json").read_text())
    return [p for p in table["points"] if "type" in p and (ca is None or p["ca"] == ca)]


# MARK: interrogation

def test_interrogate_table(ctl, station):
    result = run(ctl, "interrogate", host(station), "--ca", "47")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["CA", "IOA", "TYPE", "VALUE", "QUALITY", "TIME", "COT"]
    rows = {int(line.split()[1]): line for line in lines[1:]}
    expected = {p["ioa"] for p in points_table(47) if p["type"] != "counter"}
    assert set(rows) == expected
    assert rows[100].split()[2:5] == ["M_SP_NA_1", "off", "good"]
    assert rows[102].split()[2:5] == ["M_SP_NA_1", "on", "IV"]
    assert rows[700].split()[2:5] == ["M_ME_NC_1", "230.5", "SB"]
    assert "inrogen (20)" in rows[100]
    assert "ACTCON from CA 47" in result.stderr


def test_interrogate_csv(ctl, station):
    result = run(ctl, "interrogate", host(station), "--ca", "47", "--format", "csv", "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    by_ioa = {int(row["ioa"]): row for row in rows}
    assert by_ioa[400] == {"ca": "47", "ioa": "400", "type": "M_BO_NA_1", "value": "0xDEADBEEF", "quality": "",
                           "time": "", "cot": "20", "cot_name": "inrogen"}
    assert by_ioa[202]["value"] == "intermediate" and by_ioa[202]["quality"] == "NT"
    assert by_ioa[300]["value"] == "-5 transient"


def test_interrogate_json_broadcast(ctl, station):
    result = run(ctl, "interrogate", host(station), "--format", "json")
    assert result.returncode == 0, result.stderr
    points = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(p["ca"], p["ioa"]) for p in points} == {(p["ca"], p["ioa"]) for p in points_table() if p["type"] != "counter"}
    by_address = {(p["ca"], p["ioa"]): p for p in points}
    assert by_address[(47, 500)]["value"] == 0.5 and by_address[(47, 500)]["type"] == "M_ME_NA_1"
    assert by_address[(47, 601)]["quality"] == ["OV"]
    assert all(p["cot"] == 20 and p["cotName"] == "inrogen" for p in points)
    assert "ACTCON from CA 47, 48" in result.stderr


def test_interrogate_group(ctl, station):
    result = run(ctl, "interrogate", host(station), "--ca", "47", "--group", "2", "--format", "json")
    assert result.returncode == 0, result.stderr
    points = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(p["ioa"] for p in points) == sorted(p["ioa"] for p in points_table(47) if 2 in p.get("groups", []))
    assert {p["cot"] for p in points} == {22}


def test_interrogate_counters(ctl, station):
    result = run(ctl, "interrogate", host(station), "--ca", "47", "--counters", "--format", "json")
    assert result.returncode == 0, result.stderr
    points = {p["ioa"]: p for p in map(json.loads, result.stdout.splitlines())}
    assert set(points) == {900, 901, 902, 903}
    assert points[900]["value"] == 123456 and points[900]["type"] == "M_IT_NA_1"
    assert points[903]["quality"] == ["IV"]
    assert {p["cot"] for p in points.values()} == {37}
    group = run(ctl, "interrogate", host(station), "--ca", "47", "--counters", "--group", "2", "--format", "json")
    assert group.returncode == 0, group.stderr
    assert [json.loads(line)["ioa"] for line in group.stdout.splitlines()] == [901]


def test_counter_freeze(ctl, station):
    result = run(ctl, "interrogate", host(station), "--ca", "47", "--counters", "--freeze")
    assert result.returncode == 0, result.stderr


def test_interrogate_unknown_common_address(ctl, station):
    result = run(ctl, "interrogate", host(station), "--ca", "99", "--timeout", "3")
    assert result.returncode == 1
    assert "unknown common address" in result.stderr


# MARK: commands

def test_command_direct(ctl, station):
    result = run(ctl, "command", host(station), "48:2001", "on", "--type", "single")
    assert result.returncode == 0, result.stderr
    assert "ACTCON positive" in result.stdout
    assert "ACTTERM positive" in result.stdout
    read = run(ctl, "read", host(station), "48:1001", "--format", "json")
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout)["value"] is True


def test_command_select_before_operate(ctl, station):
    result = run(ctl, "command", host(station), "48:2102", "on", "--type", "double", "--select", "--time")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("select  48:2102 C_DC_TA_1 on: ACTCON positive")
    assert lines[1].startswith("execute 48:2102 C_DC_TA_1 on: ACTCON positive")
    assert lines[2] == "execute 48:2102 C_DC_TA_1 on: return information 48:1102 M_DP_TB_1 on (retrem)"
    assert lines[3].startswith("execute 48:2102 C_DC_TA_1 on: ACTTERM positive")


def test_command_setpoint(ctl, station):
    result = run(ctl, "command", host(station), "48:2501", "12.5", "--type", "float")
    assert result.returncode == 0, result.stderr
    assert "C_SE_NC_1 12.5: ACTCON positive" in result.stdout


def test_command_without_actterm(ctl, station):
    result = run(ctl, "command", host(station), "48:2601", "0xFF", "--type", "bitstring", "--no-actterm")
    assert result.returncode == 0, result.stderr
    assert "ACTCON positive" in result.stdout and "ACTTERM" not in result.stdout


def test_command_unknown_address_refused(ctl, station):
    result = run(ctl, "command", host(station), "48:9999", "on", "--type", "single")
    assert result.returncode == 1
    assert "unknown information object address" in result.stdout + result.stderr
    assert "COT 47" in result.stdout


def test_command_execute_without_required_select_refused(ctl, station):
    result = run(ctl, "command", host(station), "48:2005", "on", "--type", "single")
    assert result.returncode == 1
    assert "ACTCON negative (P/N=1)" in result.stdout


# MARK: system commands

def test_read(ctl, station):
    result = run(ctl, "read", host(station), "47:100", "47:700", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["ioa"], r["value"], r["cot"]) for r in rows] == [("100", "off", "5"), ("700", "230.5", "5")]
    unknown = run(ctl, "read", host(station), "47:999")
    assert unknown.returncode == 1
    assert "unknown information object address" in unknown.stderr


def test_clock_sync(ctl, station):
    result = run(ctl, "clock-sync", host(station), "--ca", "47")
    assert result.returncode == 0, result.stderr
    assert "ACTCON positive" in result.stdout


def test_test_command(ctl, station):
    result = run(ctl, "test", host(station), "--ca", "47", "--counter", "4711")
    assert result.returncode == 0, result.stderr
    assert "TSC=4711: ACTCON positive" in result.stdout and "TSC echoed" in result.stdout


def test_reset_process(ctl, station):
    result = run(ctl, "reset-process", host(station), "--ca", "47", "--qualifier", "event-buffer")
    assert result.returncode == 0, result.stderr
    assert "QRP=2" in result.stdout and "ACTCON positive" in result.stdout


def test_connect_and_errors(ctl, station):
    result = run(ctl, "connect", host(station))
    assert result.returncode == 0, result.stderr
    assert "STARTDT con" in result.stdout
    refused = run(ctl, "interrogate", f"127.0.0.1:{free_port()}")
    assert refused.returncode == 2
    assert "connection refused" in refused.stderr
    tls = run(ctl, "interrogate", host(station), "--tls-ca", "/nonexistent.pem")
    assert tls.returncode != 0 and "--tls-ca" in tls.stderr and "/nonexistent.pem" in tls.stderr


# MARK: monitor

def test_monitor_count_with_interrogation(ctl, station):
    result = run(ctl, "monitor", host(station), "--ca", "47", "--interrogate", "--count", "5", "--format", "json")
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objects) == 5
    assert objects[0]["type"] == "C_IC_NA_1" and objects[0]["cot"] == 7
    assert [o["ioa"] for o in objects[1:]] == [100, 101, 102, 103]


def test_monitor_spontaneous_raw(ctl, station):
    monitor = subprocess.Popen([str(CTL), "monitor", host(station), "--count", "1", "--duration", "15", "--raw"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while "data transfer started" not in monitor.stderr.readline():
            assert time.monotonic() < deadline and monitor.poll() is None, "monitor did not start"
        changed = run(ctl, "set", "--socket", str(station.control_socket), "48:1003=true")
        assert changed.returncode == 0, changed.stderr
        out, err = monitor.communicate(timeout=RUN_TIMEOUT)
    finally:
        if monitor.poll() is None:
            monitor.kill()
    assert monitor.returncode == 0, err
    rows = [line for line in out.splitlines() if line.startswith("48 ")]
    assert len(rows) == 1, out
    assert rows[0].split()[1:4] == ["1003", "M_SP_NA_1", "on"] and "spont (3)" in rows[0]
    assert rows[0].rstrip().endswith(" 01")  # the hex APDU, SIQ = 0x01


def test_monitor_duration(ctl, station):
    started = time.monotonic()
    result = run(ctl, "monitor", host(station), "--duration", "0.5", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert 0.4 < time.monotonic() - started < 5


# MARK: compare

def test_compare_matching_table(ctl, station, tmp_path):
    table = tmp_path / "points.json"
    table.write_text(json.dumps({"points": points_table(47)}))
    result = run(ctl, "compare", host(station), "--table", str(table))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "everything matches" in result.stdout


def test_compare_differences(ctl, station, tmp_path):
    points = points_table(47)
    for point in points:
        if point["ioa"] == 500:
            point["value"] = 0.25
        if point["ioa"] == 200:
            point["type"] = "single"
            point["value"] = True
        if point["ioa"] == 102:
            point["quality"] = []
    points = [p for p in points if p["ioa"] != 101]
    points.append({"ca": 47, "ioa": 4242, "type": "float", "value": 1.0})
    table = tmp_path / "points.json"
    table.write_text(json.dumps({"points": points}))
    result = run(ctl, "compare", host(station), "--table", str(table))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("wrong value") and "47:500" in line and "expected 0.25, received 0.5" in line for line in lines)
    assert any(line.startswith("wrong type") and "47:200" in line for line in lines)
    assert any(line.startswith("wrong quality") and "47:102" in line for line in lines)
    assert any(line.startswith("missing") and "47:4242" in line for line in lines)
    assert any(line.startswith("extra") and "47:101" in line for line in lines)
    as_json = run(ctl, "compare", host(station), "--table", str(table), "--json", "--ignore-quality")
    assert as_json.returncode == 1
    kinds = sorted(json.loads(line)["difference"] for line in as_json.stdout.splitlines())
    assert kinds == ["extra", "missing", "wrong type", "wrong value"]


# MARK: bench

def test_bench_gi(ctl, station):
    expected = len([p for p in points_table(47) if p["type"] != "counter"])
    result = run(ctl, "bench", host(station), "--gi", "--ca", "47", "--repeat", "2", "--expect", str(expected),
                 "--settle-ms", "50")
    assert result.returncode == 0, result.stdout + result.stderr
    runs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["run"] for r in runs] == [1, 2]
    for r in runs:
        assert r["metric"] == "gi" and r["client"] == "rtu104ctl" and r["ok"] is True
        assert r["objects"] == expected and r["complete"] is True and r["seq_errors"] == 0


def test_bench_connections_and_events(ctl, station):
    result = run(ctl, "bench", host(station), "--connections", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    line = json.loads(result.stdout)
    assert line["metric"] == "connect_startdt" and line["samples"] == 5 and line["failures"] == 0
    events = run(ctl, "bench", host(station), "--events", "--duration", "0.5", "--warmup", "0")
    assert events.returncode == 0, events.stdout + events.stderr
    assert json.loads(events.stdout)["metric"] == "events"


# MARK: against c104's outstation

@pytest.fixture(scope="module")
def c104_station():
    port = free_port()
    server = c104.Server(ip="127.0.0.1", port=port, tick_rate_ms=50)
    station = server.add_station(common_address=11)
    single = station.add_point(io_address=100, type=c104.Type.M_SP_NA_1)
    single.value = True
    measured = station.add_point(io_address=200, type=c104.Type.M_ME_NC_1)
    measured.value = 12.5
    command = station.add_point(io_address=300, type=c104.Type.C_SC_NA_1)
    received = []

    def on_command(point: c104.Point, previous_info: c104.Information, message: c104.IncomingMessage) -> c104.ResponseState:
        received.append(point.value)
        return c104.ResponseState.SUCCESS

    command.on_receive(callable=on_command)
    server.start()
    deadline = time.monotonic() + 5
    while not accepts(port):
        assert time.monotonic() < deadline, "c104 server did not start"
        time.sleep(0.05)
    yield port, received
    server.stop()


def test_c104_interrogate(ctl, c104_station):
    port, _ = c104_station
    result = run(ctl, "interrogate", f"127.0.0.1:{port}", "--ca", "11", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    points = {p["ioa"]: p for p in map(json.loads, result.stdout.splitlines())}
    assert points[100]["value"] is True and points[100]["type"].startswith("M_SP")
    assert points[200]["value"] == 12.5 and points[200]["type"].startswith("M_ME_")


def test_c104_command(ctl, c104_station):
    port, received = c104_station
    result = run(ctl, "command", f"127.0.0.1:{port}", "11:300", "on", "--type", "single", "--timeout", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ACTCON positive" in result.stdout
    deadline = time.monotonic() + 3
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert received, "c104 did not see the command"
    refused = run(ctl, "command", f"127.0.0.1:{port}", "11:999", "on", "--type", "single", "--timeout", "3")
    assert refused.returncode == 1, refused.stdout + refused.stderr
