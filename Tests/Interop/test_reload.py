"""Reload (SIGHUP and the control socket) and restart persistence, over real TCP.

Each test runs its own daemon on a point table in its own directory, rewrites the table, and
checks what a connected master sees: no disconnect for unchanged stations, new points reported,
old values kept, nothing lost across many reloads, and counters back after kill -9.
"""

import json
import os
import signal
import socket
import threading
import time

import pytest

import iec104
from conftest import Daemon, free_port
from iec104 import RawMaster

CONFIG = """
[daemon]
point_tables = points.json
state_directory = {state}
runtime_directory = {runtime}

[listener main]
bind = 127.0.0.1:{port}

[station scada]
listener = main
allow = 127.0.0.1
common_addresses = 47
event_buffer = 100000
"""


def points(*entries: dict) -> str:
    return json.dumps({"points": [{"ca": 47, **entry} for entry in entries]})


BASE = [
    {"ioa": 1, "type": "float", "value": 1.5},
    {"ioa": 2, "type": "single", "value": False},
    {"ioa": 3, "type": "scaled", "value": 7},
    {"ioa": 50, "type": "counter", "value": 0},
    {"ioa": 60, "type": "float", "value": 0.0, "retain": True},
]


@pytest.fixture
def daemon(tmp_path):
    ports = {"main": free_port()}
    instance = Daemon("reload", tmp_path, ports)
    instance.config_path.write_text(CONFIG.format(state=instance.state_directory, runtime=instance.runtime_directory,
                                                  port=ports["main"]))
    (tmp_path / "points.json").write_text(points(*BASE))
    instance.start()
    yield instance
    instance.stop()


def control(daemon: Daemon, request: dict, timeout: float = 10.0) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(daemon.control_socket))
        sock.sendall(json.dumps(request).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            assert chunk, "the daemon closed the control connection"
            data += chunk
    return json.loads(data)


def write_points(daemon: Daemon, text: str) -> None:
    path = daemon.directory / "points.json"
    path.write_text(text)


def wait_for_log(daemon: Daemon, needle: str, count: int = 1, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while daemon.log_text().count(needle) < count:
        assert time.monotonic() < deadline, f"no {count}× '{needle}' in the log:\n{daemon.log_tail(40)}"
        time.sleep(0.05)


def interrogate(master: RawMaster) -> dict[int, object]:
    replies = master.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM)
    return {obj.ioa: obj.value for asdu in replies if asdu.cause == 20 for obj in asdu.objects}


def test_sighup_applies_added_changed_and_removed_points_without_disconnect(daemon):
    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.collect(0.2)
        assert control(daemon, {"op": "set", "points": [{"point": "47:1", "value": 42.25}]})["ok"]
        master.until(lambda a: a.cause == iec104.COT_SPONTANEOUS, 3.0)

        # IOA 2 goes away, IOA 3 changes kind, IOA 4 is new.
        write_points(daemon, points(BASE[0], {"ioa": 3, "type": "double", "value": "on"},
                                    {"ioa": 4, "type": "single", "value": True}, BASE[3]))
        os.kill(daemon.process.pid, signal.SIGHUP)
        wait_for_log(daemon, "configuration reloaded")
        reported = master.collect(1.0)
        spontaneous = {obj.ioa: (asdu.type_id, obj.value) for asdu in reported if asdu.cause == iec104.COT_SPONTANEOUS
                       for obj in asdu.objects}
        assert spontaneous == {3: (iec104.M_DP_NA_1, 2), 4: (iec104.M_SP_NA_1, True)}  # DPI 2 = on

        values = interrogate(master)
        assert values == {1: 42.25, 3: 2, 4: True}, "IOA 1 keeps the value it had; IOA 2 is gone"
        assert not master.closed


def test_broken_config_keeps_the_running_one(daemon):
    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.collect(0.2)
        write_points(daemon, '{"points": [{"ca": 47, "ioa": 1, "type": "float"')
        os.kill(daemon.process.pid, signal.SIGHUP)
        wait_for_log(daemon, "the running configuration stays")
        assert "points.json:1:" in daemon.log_text(), "the error names the file and line"
        reply = control(daemon, {"op": "reload"})
        assert reply["ok"] is False and "the running configuration stays" in reply["error"]
        assert set(interrogate(master)) == {1, 2, 3, 60}
        assert not master.closed


def test_reload_through_the_control_socket(daemon):
    write_points(daemon, points(*BASE, {"ioa": 9, "type": "float", "value": 3.0}))
    reply = control(daemon, {"op": "reload"})
    assert reply["ok"] is True, reply
    assert "points: 1 monitor added;" in reply["message"]
    got = control(daemon, {"op": "get", "points": ["47:9"]})
    assert got["points"][0]["value"] == 3.0


def test_hundred_reloads_under_a_steady_event_stream_lose_nothing(daemon):
    total = 1500
    stop = threading.Event()
    failures: list[str] = []

    def feed() -> None:
        try:
            for value in range(1, total + 1):
                reply = control(daemon, {"op": "set", "points": [{"point": "47:1", "value": float(value)}]})
                if not reply.get("ok"):
                    failures.append(f"set {value}: {reply}")
                    return
                time.sleep(0.002)
        finally:
            stop.set()

    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.collect(0.2)
        feeder = threading.Thread(target=feed)
        feeder.start()
        received: list[float] = []
        reloads = 0
        while reloads < 100 or not stop.is_set():
            if reloads < 100:
                # Alternate an extra point in and out so that every reload really changes something.
                extra = [{"ioa": 500, "type": "single", "value": True}] if reloads % 2 == 0 else []
                write_points(daemon, points(*BASE, *extra))
                assert control(daemon, {"op": "reload"})["ok"]
                reloads += 1
            for asdu in master.collect(0.01):
                received += [obj.value for obj in asdu.objects if obj.ioa == 1 and asdu.cause == iec104.COT_SPONTANEOUS]
        feeder.join(30)
        for asdu in master.collect(1.0):
            received += [obj.value for obj in asdu.objects if obj.ioa == 1 and asdu.cause == iec104.COT_SPONTANEOUS]
        assert not failures, failures
        assert not master.closed, "the master was disconnected by a reload"
        assert received == [float(value) for value in range(1, total + 1)], \
            f"{len(received)} of {total} events; first gap near {next((i + 1 for i, v in enumerate(received) if v != i + 1), None)}"
        assert daemon.log_text().count("configuration reloaded") >= 100


def test_counters_come_back_after_kill_9(daemon):
    assert control(daemon, {"op": "set", "points": [{"point": "47:50", "value": 123456}, {"point": "47:60", "value": 7.5},
                                                    {"point": "47:1", "value": 9.0}]})["ok"]
    time.sleep(11)  # the state is saved every 10 s
    daemon.kill()
    daemon.start()
    got = control(daemon, {"op": "get", "points": ["47:50", "47:60", "47:1"]})
    values = {point["ioa"]: point["value"] for point in got["points"]}
    assert values == {50: 123456, 60: 7.5, 1: 1.5}, \
        "the counter and the retained point survive; a point without retain starts from its table value"
    assert "restored 2 of 2 saved values" in daemon.log_text()


def test_counters_are_saved_at_a_clean_stop(daemon):
    assert control(daemon, {"op": "set", "points": [{"point": "47:50", "value": 99}]})["ok"]
    daemon.stop()
    daemon.start()
    got = control(daemon, {"op": "get", "points": ["47:50"]})
    assert got["points"][0]["value"] == 99


def test_a_damaged_state_file_is_ignored(daemon):
    assert control(daemon, {"op": "set", "points": [{"point": "47:50", "value": 77}]})["ok"]
    daemon.stop()
    (daemon.state_directory / "state.json").write_text("{not json")
    daemon.start()
    assert "ignoring the state file" in daemon.log_text()
    got = control(daemon, {"op": "get", "points": ["47:50"]})
    assert got["points"][0]["value"] == 0


def test_reload_while_a_c104_master_is_connected_and_interrogating(daemon):
    """The third-party master: points added and removed while it interrogates, no reconnect."""
    import c104
    from c104master import C104Master

    with C104Master(daemon.port, [47]) as master:
        connected_at = master.connection.connected_at
        first = master.mark()
        # c104's return value is not trusted (DESIGN.md); the ACTTERM frame is.
        master.connection.interrogation(common_address=47, cause=c104.Cot.ACTIVATION, qualifier=c104.Qoi.STATION,
                                        wait_for_response=False)
        master.wait_for(lambda a: a.type_id == iec104.C_IC_NA_1 and a.cause == iec104.COT_ACTTERM, first, timeout=5.0)
        before = {obj.ioa for a in master.asdus(first) if a.cause == 20 for obj in a.objects}
        assert before == {1, 2, 3, 60}

        write_points(daemon, points(BASE[0], BASE[2], BASE[3], BASE[4], {"ioa": 7, "type": "float", "value": 70.5}))
        # Interrogate and reload at the same time: the running interrogation finishes on its own table.
        second = master.mark()
        # c104's return value is not trusted (DESIGN.md); the ACTTERM frame is.
        master.connection.interrogation(common_address=47, cause=c104.Cot.ACTIVATION, qualifier=c104.Qoi.STATION,
                                        wait_for_response=False)
        assert control(daemon, {"op": "reload"})["ok"]
        master.wait_for(lambda a: a.type_id == iec104.C_IC_NA_1 and a.cause == iec104.COT_ACTTERM, second, timeout=5.0)
        spontaneous = master.wait_for(lambda a: a.cause == iec104.COT_SPONTANEOUS and any(o.ioa == 7 for o in a.objects),
                                      second, timeout=5.0)
        assert spontaneous[-1].objects[0].value == 70.5

        third = master.mark()
        # c104's return value is not trusted (DESIGN.md); the ACTTERM frame is.
        master.connection.interrogation(common_address=47, cause=c104.Cot.ACTIVATION, qualifier=c104.Qoi.STATION,
                                        wait_for_response=False)
        master.wait_for(lambda a: a.type_id == iec104.C_IC_NA_1 and a.cause == iec104.COT_ACTTERM, third, timeout=5.0)
        after = {obj.ioa for a in master.asdus(third) if a.cause == 20 for obj in a.objects}
        assert after == {1, 3, 7, 60}, "IOA 2 is gone, IOA 7 is new"
        assert master.connection.is_connected and master.connection.connected_at == connected_at, "no reconnect"
