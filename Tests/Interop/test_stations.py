"""Stations and connections (configs/stations.conf): a second master taking over a station, an
address no station admits, and events buffered for a station while its master is away."""

import time

import c104
import pytest

import iec104
from c104master import C104Master
from expect import points_of
from iec104 import LinkClosed, RawMaster


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("stations", listeners=("main", "strict"))


def wait_for_log(daemon, predicate, timeout: float = 3.0, since: int = 0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        for line in daemon.log_text().splitlines()[since:]:
            if predicate(line):
                return line
        if time.monotonic() > deadline:
            raise AssertionError(f"no such line in the daemon log within {timeout} s:\n{daemon.log_tail(40)}")
        time.sleep(0.05)


def log_lines(daemon) -> int:
    return len(daemon.log_text().splitlines())


def test_second_master_takes_over_the_station(daemon):
    """Station 'local' holds one connection (redundancy 1): master B from the same address replaces master A."""
    with RawMaster(daemon.ports["main"]) as first:
        first.start_dt()
        replies = first.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM)
        assert set(points_of(replies[1:-1])) == {1001, 1002, 3001}
        with C104Master(daemon.ports["main"], [47]) as second:
            assert first.wait_closed(3.0), "master A is still connected after master B took over"
            since = second.mark()
            second.connection.interrogation(common_address=47, cause=c104.Cot.ACTIVATION, qualifier=c104.Qoi.STATION)
            asdus = second.wait_for(lambda a: a.type_id == iec104.C_IC_NA_1 and a.cause == iec104.COT_ACTTERM, since)
            assert asdus[0].type_id == iec104.C_IC_NA_1 and asdus[0].cause == iec104.COT_ACTCON, asdus
            data = asdus[1:-1]
            assert all(a.cause == iec104.COT_INTERROGATED for a in data), data
            assert set(points_of(data)) == {1001, 1002, 3001}
            assert second.connection.state == c104.ConnectionState.OPEN
    assert "replaced" in daemon.log_text()


def test_unknown_address_is_refused(daemon):
    """Listener 'strict' has only a station for 127.0.0.1: a master from 127.0.0.2 is closed at once,
    and the refusal is logged with its address."""
    mark = log_lines(daemon)
    try:
        master = RawMaster(daemon.ports["strict"], source="127.0.0.2")
    except ConnectionError:
        master = None  # refused before the handshake completed: closed at once too
    if master is not None:
        with master:
            try:
                master.send_raw(iec104.STARTDT_ACT)
            except OSError:
                pass
            started = time.monotonic()
            # At once, not at a timeout; the bound leaves a loaded machine room for a pause.
            assert master.wait_closed(5.0), "the connection from 127.0.0.2 was not closed"
            assert time.monotonic() - started < 5.0
            assert master.received == [], f"a refused master got frames: {master.received}"
    line = wait_for_log(daemon, lambda l: "127.0.0.2" in l and "refused" in l, since=mark)
    assert "strict" in line, line
    # 127.0.0.1 is admitted on the same listener.
    with RawMaster(daemon.ports["strict"]) as admitted:
        admitted.start_dt()
        assert admitted.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM)[-1].ca == 47


def test_events_buffered_while_master_away_are_delivered_after_startdt(daemon):
    """Station 'remote' (127.0.0.2, time_tags = always) buffers the return information of commands
    that station 'local' executes while its master is away; on reconnect + STARTDT they arrive
    as COT 11 events with time tags, unasked."""
    mark = log_lines(daemon)
    with RawMaster(daemon.ports["main"], source="127.0.0.2") as remote:
        remote.start_dt()
        remote.collect(0.3)
    wait_for_log(daemon, lambda l: "127.0.0.2" in l and "disconnected" in l, since=mark)

    before = time.time() * 1000
    with C104Master(daemon.ports["main"], [47]) as local:
        station = local.stations[47]
        commands = [(2001, c104.Type.C_SC_NA_1, c104.SingleCmd(on=True)),
                    (2002, c104.Type.C_DC_NA_1, c104.DoubleCmd(state=c104.Double.ON)),
                    (2003, c104.Type.C_SE_NB_1, c104.ScaledCmd(target=c104.Int16(1234)))]
        for ioa, type_, info in commands:
            point = station.add_point(io_address=ioa, type=type_)
            point.info = info
            since = local.mark()
            point.transmit(cause=c104.Cot.ACTIVATION)
            replies = local.wait_for(lambda a: a.cause == iec104.COT_ACTTERM or a.negative, since)
            assert [(a.cause, a.negative) for a in replies] == [(7, False), (11, False), (10, False)], replies
    after = time.time() * 1000

    with RawMaster(daemon.ports["main"], source="127.0.0.2") as remote:
        remote.start_dt()
        events = []
        deadline = time.monotonic() + 3.0
        while sum(len(a.objects) for a in events) < 3 and time.monotonic() < deadline:
            try:
                events.append(remote.next_asdu(max(deadline - time.monotonic(), 0.001)))
            except (TimeoutError, LinkClosed):
                break
        events += remote.collect(0.3)  # nothing else may follow
    assert all(a.cause == iec104.COT_RETURN_REMOTE and not a.negative and a.ca == 47 for a in events), events
    got = [(a.type_id, o.ioa, o.value) for a in events for o in a.objects]
    assert got == [(iec104.M_SP_TB_1, 1001, True), (iec104.M_DP_TB_1, 1002, 2), (iec104.M_ME_TE_1, 3001, 1234)], events
    for asdu in events:
        for obj in asdu.objects:
            assert obj.time is not None and not obj.time.invalid, asdu
            assert before - 1000 <= obj.time.unix_ms() <= after + 1000, f"time tag {obj.time} outside the command window"
