"""Spontaneous events from point updates through the control socket (configs/spontaneous.conf).

The control socket: `<runtime_directory>/control.sock`, a Unix stream socket speaking
newline-delimited JSON, one reply line per request:
    {"op":"set","points":[{"ca":47,"ioa":3201,"value":231.5,"quality":["invalid"],"time":1763790000123}]}
    -> {"ok":true,"events":1}        errors: {"ok":false,"error":"..."}
`time` is optional (ms since the epoch). Updates of one request apply all or nothing.
"""

import json
import socket
import time

import pytest

import iec104
from iec104 import RawMaster


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("spontaneous")


@pytest.fixture
def master(daemon):
    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.collect(0.2)  # end of initialization, if this is the first connection
        yield master


def control_raw(daemon, line: bytes, timeout: float = 3.0) -> dict:
    deadline = time.monotonic() + timeout
    while not daemon.control_socket.exists():
        assert time.monotonic() < deadline, f"{daemon.control_socket} does not exist"
        time.sleep(0.05)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(daemon.control_socket))
        sock.sendall(line)
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = sock.recv(4096)
            assert chunk, f"control socket closed before a full reply line: {reply!r}"
            reply += chunk
    assert reply.count(b"\n") == 1, f"one reply line per request: {reply!r}"
    return json.loads(reply)


def control(daemon, request: dict) -> dict:
    return control_raw(daemon, (json.dumps(request) + "\n").encode())


def set_points(daemon, *points: dict) -> dict:
    """Sets points; a successful reply must count every point as updated (the rest is compared by the test)."""
    reply = control(daemon, {"op": "set", "points": list(points)})
    if reply.get("ok"):
        assert reply.pop("updated") == len(points), reply
    return reply


def test_float_with_quality_and_time_tag(daemon, master):
    """The brief's example: 3201 is time-tagged, so the event is M_ME_TF_1 with the given time."""
    reply = set_points(daemon, {"ca": 47, "ioa": 3201, "value": 231.5, "quality": ["invalid"], "time": 1763790000123})
    assert reply == {"ok": True, "events": 1}
    events = master.until(lambda a: True, 3.0)
    event = events[-1]
    assert (event.type_id, event.cause, event.negative, event.ca) == (iec104.M_ME_TF_1, iec104.COT_SPONTANEOUS, False, 47)
    [obj] = event.objects
    assert (obj.ioa, obj.value, set(obj.quality)) == (3201, 231.5, {"invalid"})
    assert obj.time is not None and not obj.time.invalid
    assert obj.time.unix_ms() == 1763790000123
    assert master.collect(0.3) == []


def test_single_without_time_tag(daemon, master):
    assert set_points(daemon, {"ca": 47, "ioa": 1001, "value": True}) == {"ok": True, "events": 1}
    event = master.next_asdu(3.0)
    assert (event.type_id, event.cause, event.ca) == (iec104.M_SP_NA_1, iec104.COT_SPONTANEOUS, 47), event
    assert [(o.ioa, o.value, set(o.quality)) for o in event.objects] == [(1001, True, set())]


def test_time_tag_defaults_to_now(daemon, master):
    before = time.time() * 1000
    assert set_points(daemon, {"ca": 47, "ioa": 1101, "value": "on"}) == {"ok": True, "events": 1}
    after = time.time() * 1000
    event = master.next_asdu(3.0)
    assert (event.type_id, event.cause) == (iec104.M_DP_TB_1, iec104.COT_SPONTANEOUS), event
    [obj] = event.objects
    assert (obj.ioa, obj.value) == (1101, 2)
    assert before - 1000 <= obj.time.unix_ms() <= after + 1000, obj.time


def test_deadband_suppresses_small_changes(daemon, master):
    """3202: absolute deadband 0.5, measured from the last reported value (100.0 initially)."""
    steps = [(100.3, 0), (100.6, 1), (100.9, 0), (100.0, 1)]
    reported = []
    for value, events in steps:
        assert set_points(daemon, {"ca": 47, "ioa": 3202, "value": value}) == {"ok": True, "events": events}, value
        got = master.replies(events)
        assert len(got) == events, f"after {value}: {got}"
        for asdu in got:
            assert (asdu.type_id, asdu.cause) == (iec104.M_ME_NC_1, iec104.COT_SPONTANEOUS), asdu
            reported += [(o.ioa, round(o.value, 4)) for o in asdu.objects]
    assert reported == [(3202, 100.6), (3202, 100.0)]


def test_quality_change_alone_is_an_event(daemon, master):
    """Within the deadband, but the quality changes: that is reported."""
    assert set_points(daemon, {"ca": 47, "ioa": 3202, "value": 100.1, "quality": ["substituted"]}) == \
        {"ok": True, "events": 1}
    event = master.next_asdu(3.0)
    assert [(o.ioa, set(o.quality)) for o in event.objects] == [(3202, {"substituted"})]


def test_several_points_in_one_request(daemon, master):
    reply = set_points(daemon, {"ca": 47, "ioa": 1002, "value": True}, {"ca": 47, "ioa": 1003, "value": True})
    assert reply == {"ok": True, "events": 2}
    got = master.collect(0.5)
    assert [(o.ioa, o.value) for a in got for o in a.objects] == [(1002, True), (1003, True)], got
    assert all(a.cause == iec104.COT_SPONTANEOUS and a.type_id == iec104.M_SP_NA_1 for a in got), got


def test_interrogation_reports_the_new_value(daemon, master):
    assert set_points(daemon, {"ca": 47, "ioa": 3203, "value": -42, "quality": ["blocked"]}) == {"ok": True, "events": 1}
    assert len(master.replies(1)) == 1
    replies = master.request(iec104.gi(47, 27), until_cause=iec104.COT_ACTTERM)
    data = [(a.type_id, a.cause, o.ioa, o.value, set(o.quality)) for a in replies[1:-1] for o in a.objects]
    assert data == [(iec104.M_ME_NB_1, 27, 3203, -42, {"blocked"})]


@pytest.mark.parametrize("request_line", [
    b'{"op":"set","points":[{"ca":47,"ioa":9999,"value":1}]}\n',              # unknown point
    b'{"op":"set","points":[{"ca":47,"ioa":3202,"value":"high"}]}\n',         # wrong value type
    b'{"op":"set","points":[{"ca":47,"ioa":1001,"value":true,"quality":["overflow"]}]}\n',  # impossible flag
    b'{"op":"set","points":[{"ca":47,"ioa":1002,"value":false},{"ca":47,"ioa":9999,"value":1}]}\n',  # all or nothing
    b'{"op":"launch"}\n',                                                      # unknown operation
    b'{"op":"set",\n',                                                         # malformed JSON
])
def test_errors_change_nothing(daemon, master, request_line):
    reply = control_raw(daemon, request_line)
    assert reply.get("ok") is False and isinstance(reply.get("error"), str) and reply["error"], reply
    assert master.collect(0.3) == [], "a refused update produced events"
