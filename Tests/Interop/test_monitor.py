"""Monitor direction against the real daemon: interrogations, counter interrogation, read,
clock synchronisation and test command, with c104 as the master (and the raw client where
c104 cannot set what is checked). Every assertion is on the received frames."""

import datetime

import c104
import pytest

import iec104
from c104master import C104Master
from expect import (MAIN_CA47, MAIN_COUNTER_GROUPS, MAIN_COUNTERS, MAIN_GROUPS, assert_interrogation, assert_mirror,
                    points_of)
from iec104 import RawMaster


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("main")


def last_sent_asdu(master: C104Master, type_id: int) -> bytes:
    for frame in reversed(master.sent):
        asdu = iec104.asdu_of_apdu(frame)
        if asdu is not None and asdu.type_id == type_id:
            return asdu.raw
    raise AssertionError(f"c104 sent no ASDU of type {type_id}")


def is_term(type_id: int):
    return lambda a: a.type_id == type_id and (a.cause == iec104.COT_ACTTERM or a.negative)


def test_general_interrogation(daemon):
    with C104Master(daemon.port, [47]) as master:
        since = master.mark()
        master.connection.interrogation(common_address=47, cause=c104.Cot.ACTIVATION, qualifier=c104.Qoi.STATION)
        asdus = master.wait_for(is_term(iec104.C_IC_NA_1), since)
        request = last_sent_asdu(master, iec104.C_IC_NA_1)
        assert request == iec104.gi(47)
        data = assert_interrogation(asdus, request, 47, iec104.COT_INTERROGATED,
                                    {ioa: (t, v, q) for ioa, (t, v, q) in MAIN_CA47.items()})
        # The contiguous runs 100..103 (single) and 600..601 (scaled) go out as SQ=1 ASDUs.
        runs = {(a.type_id, a.objects[0].ioa, len(a.objects)) for a in data if a.sequence}
        assert (iec104.M_SP_NA_1, 100, 4) in runs, data
        assert (iec104.M_ME_NB_1, 600, 2) in runs, data
        # The transient bit of the step position survives.
        step = next(o for a in data for o in a.objects if o.ioa == 300)
        assert step.extra["transient"] is True


def test_general_interrogation_broadcast_keeps_originator(daemon):
    """C_IC_NA_1 to CA 65535 with originator 9: a complete ACTCON/data/ACTTERM block per served CA,
    each carrying its own CA and the originator address."""
    request = iec104.build_asdu(iec104.C_IC_NA_1, iec104.COT_ACTIVATION, 0xFFFF, [(0, bytes([20]))], originator=9)
    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.send_asdu(request)
        replies = []
        for _ in range(2):
            replies += master.until(lambda a: a.type_id == iec104.C_IC_NA_1 and a.cause == iec104.COT_ACTTERM, 5.0)
    blocks: dict[int, list] = {}
    for asdu in replies:
        blocks.setdefault(asdu.ca, []).append(asdu)
        assert asdu.originator == 9, f"originator address not mirrored: {asdu}"
    assert sorted(blocks) == [47, 48]
    for ca, asdus in blocks.items():
        per_ca = request[:4] + bytes([ca & 0xFF, ca >> 8]) + request[6:]
        assert_mirror(asdus[0], per_ca, iec104.COT_ACTCON)
        assert_mirror(asdus[-1], per_ca, iec104.COT_ACTTERM)
    assert points_of(blocks[47][1:-1]) == MAIN_CA47


@pytest.mark.parametrize("group", sorted(MAIN_GROUPS))
def test_group_interrogation(daemon, group):
    qoi = getattr(c104.Qoi, f"GROUP_{group}")
    with C104Master(daemon.port, [47]) as master:
        since = master.mark()
        master.connection.interrogation(common_address=47, cause=c104.Cot.ACTIVATION, qualifier=qoi)
        asdus = master.wait_for(is_term(iec104.C_IC_NA_1), since)
        request = last_sent_asdu(master, iec104.C_IC_NA_1)
        assert request == iec104.gi(47, 20 + group)
        assert_interrogation(asdus, request, 47, iec104.COT_INTERROGATED + group,
                             {ioa: MAIN_CA47[ioa] for ioa in MAIN_GROUPS[group]})


@pytest.mark.parametrize("group", [None, 1, 2, 3, 4])
def test_counter_interrogation(daemon, group):
    rqt = c104.Rqt.GENERAL if group is None else getattr(c104.Rqt, f"GROUP_{group}")
    members = set(MAIN_COUNTERS) if group is None else MAIN_COUNTER_GROUPS[group]
    cause = iec104.COT_COUNTER_GENERAL + (group or 0)
    with C104Master(daemon.port, [47]) as master:
        since = master.mark()
        master.connection.counter_interrogation(common_address=47, cause=c104.Cot.ACTIVATION, qualifier=rqt,
                                                freeze=c104.Frz.READ)
        asdus = master.wait_for(is_term(iec104.C_CI_NA_1), since)
        request = last_sent_asdu(master, iec104.C_CI_NA_1)
        assert request[-1] == (group or 5), f"c104 sent an unexpected QCC: {request.hex(' ')}"
        assert_interrogation(asdus, request, 47, cause,
                             {ioa: (iec104.M_IT_NA_1, *MAIN_COUNTERS[ioa]) for ioa in members})


def test_read(daemon):
    with C104Master(daemon.port, [47]) as master:
        station = master.stations[47]
        for ioa in (101, 700, 300):
            type_id, value, quality = MAIN_CA47[ioa]
            point = station.add_point(io_address=ioa, type=c104.Type(type_id))
            since = master.mark()
            point.read()
            asdus = master.wait_for(lambda a: a.cause == iec104.COT_REQUEST or a.negative, since)
            assert len(asdus) == 1, f"a read is answered by the point alone, no ACTCON: {asdus}"
            reply = asdus[0]
            assert (reply.type_id, reply.cause, reply.negative, reply.ca) == (type_id, iec104.COT_REQUEST, False, 47), reply
            assert [(o.ioa, o.value, set(o.quality)) for o in reply.objects] == [(ioa, value, quality)]


def test_read_unknown_ioa(daemon):
    with C104Master(daemon.port, [47]) as master:
        point = master.stations[47].add_point(io_address=9999, type=c104.Type.M_SP_NA_1)
        since = master.mark()
        point.read()
        asdus = master.wait_for(lambda a: a.type_id == iec104.C_RD_NA_1, since)
        request = last_sent_asdu(master, iec104.C_RD_NA_1)
        assert_mirror(asdus[-1], request, iec104.COT_UNKNOWN_IOA, negative=True)


def test_clock_sync(daemon):
    with C104Master(daemon.port, [47]) as master:
        since = master.mark()
        master.connection.clock_sync(common_address=47)
        asdus = master.wait_for(lambda a: a.type_id == iec104.C_CS_NA_1, since)
        request = last_sent_asdu(master, iec104.C_CS_NA_1)
        assert_mirror(asdus[-1], request, iec104.COT_ACTCON)
        sent_time = iec104.CP56Time.decode(request[-7:]).unix_ms()
        now = datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000
        assert abs(sent_time - now) < 60_000, "c104 sent a strange time; the mirror check above is what matters"
    assert "clock synchronisation" in daemon.log_text()


def test_test_command(daemon):
    with C104Master(daemon.port, [47]) as master:
        since = master.mark()
        master.connection.test(common_address=47, with_time=True)
        asdus = master.wait_for(lambda a: a.type_id == iec104.C_TS_TA_1, since)
        request = last_sent_asdu(master, iec104.C_TS_TA_1)
        assert_mirror(asdus[-1], request, iec104.COT_ACTCON)


def test_test_command_without_time_refused_by_default(daemon):
    """C_TS_NA_1 is IEC 101 only; a station without accept_c_ts_na refuses it with COT 44."""
    request = iec104.build_asdu(iec104.C_TS_NA_1, iec104.COT_ACTIVATION, 47, [(0, bytes([0xAA, 0x55]))])
    with RawMaster(daemon.port) as master:
        master.start_dt()
        replies = master.request(request)
    assert_mirror(replies[-1], request, iec104.COT_UNKNOWN_TYPE, negative=True)


def test_interrogation_deactivation_without_running_interrogation(daemon):
    """A C_IC_NA_1 deactivation with no interrogation running: negative DEACTCON (COT 9, P/N)."""
    request = iec104.gi(47, cause=iec104.COT_DEACTIVATION)
    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.collect(0.2)
        master.send_asdu(request)
        replies = master.replies(1)
    assert len(replies) == 1, replies
    assert_mirror(replies[0], request, iec104.COT_DEACTCON, negative=True)


def test_read_of_a_command_point_is_unknown_ioa(daemon):
    """IOA 2001 of CA 48 is a command point: there is nothing to read there."""
    request = iec104.build_asdu(iec104.C_RD_NA_1, iec104.COT_REQUEST, 48, [(2001, b"")])
    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.collect(0.2)
        replies = master.request(request)
    assert_mirror(replies[-1], request, iec104.COT_UNKNOWN_IOA, negative=True)


def test_counter_freeze_then_read(daemon):
    """C_CI_NA_1 freeze without reset (QCC 0x45): ACTCON and ACTTERM, no counters; a read request
    afterwards (QCC 5) reports the frozen values."""
    freeze = iec104.build_asdu(iec104.C_CI_NA_1, iec104.COT_ACTIVATION, 47, [(0, bytes([0x45]))])
    read = iec104.build_asdu(iec104.C_CI_NA_1, iec104.COT_ACTIVATION, 47, [(0, bytes([0x05]))])
    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.collect(0.2)
        replies = master.request(freeze, until_cause=iec104.COT_ACTTERM)
        assert len(replies) == 2, replies
        assert_mirror(replies[0], freeze, iec104.COT_ACTCON)
        assert_mirror(replies[1], freeze, iec104.COT_ACTTERM)
        replies = master.request(read, until_cause=iec104.COT_ACTTERM)
    assert_interrogation(replies, read, 47, iec104.COT_COUNTER_GENERAL,
                         {ioa: (iec104.M_IT_NA_1, *MAIN_COUNTERS[ioa]) for ioa in MAIN_COUNTERS})
