"""Commands from c104 to the real daemon (CA 48 of configs/points-main.json): every command type,
with and without time tag, direct and select-before-operate. Each case must produce exactly
ACTCON (the request mirrored), the feedback point as a COT 11 event with the new value, and ACTTERM
(the request mirrored) — or a negative ACTCON where the point refuses the command.

Each test uses its own command and feedback point, so the order of tests does not matter."""

import datetime
import struct

import c104
import pytest

import iec104
from c104master import C104Master
from expect import assert_mirror
from iec104 import RawMaster


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("main")


def now_utc() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def sent_commands(master: C104Master, since_sent: int, type_id: int) -> list[bytes]:
    out = []
    for frame in master.sent[since_sent:]:
        asdu = iec104.asdu_of_apdu(frame)
        if asdu is not None and asdu.type_id == type_id:
            out.append(asdu.raw)
    return out


def send(master: C104Master, ioa: int, type_id: int, info, mode=c104.CommandMode.DIRECT):
    """Sends one command through c104 and returns (requests sent, ASDUs received once the line is quiet)."""
    point = master.stations[48].add_point(io_address=ioa, type=c104.Type(type_id), command_mode=mode)
    assert point is not None, f"c104 refused a second point {ioa}; use a new master"
    point.info = info
    since, since_sent = master.mark(), len(master.sent)
    point.transmit(cause=c104.Cot.ACTIVATION)  # its return value is not trusted; the frames are
    received = master.settle(since, quiet=0.4)
    return sent_commands(master, since_sent, type_id), received


def assert_executed(requests, received, feedback_type, feedback_ioa, value, *, select=False, actterm=True,
                    time_tagged=False):
    """[ACTCON select] ACTCON, COT 11 feedback, ACTTERM — exactly, in this order."""
    expected_requests = 2 if select else 1
    assert len(requests) == expected_requests, f"c104 sent {[r.hex(' ') for r in requests]}"
    replies = list(received)
    if select:
        assert iec104.decode_asdu(requests[0]).objects[0].extra.get("select"), "the first request must be a select"
        assert not iec104.decode_asdu(requests[1]).objects[0].extra.get("select"), "the second must be an execute"
        assert_mirror(replies.pop(0), requests[0], iec104.COT_ACTCON)
    execute = requests[-1]
    assert len(replies) == (3 if actterm else 2), f"expected ACTCON, feedback{', ACTTERM' if actterm else ''}: {received}"
    assert_mirror(replies[0], execute, iec104.COT_ACTCON)
    event = replies[1]
    assert (event.type_id, event.cause, event.negative, event.ca) == (feedback_type, iec104.COT_RETURN_REMOTE, False, 48), event
    assert len(event.objects) == 1 and event.objects[0].ioa == feedback_ioa, event
    got = event.objects[0].value
    assert got == pytest.approx(value) if isinstance(value, float) else got == value, event
    assert not event.objects[0].quality, event
    if time_tagged:
        tag = event.objects[0].time
        assert tag is not None and not tag.invalid, event
        assert abs(tag.unix_ms() - now_utc().timestamp() * 1000) < 10_000, f"time tag far from now: {tag}"
    if actterm:
        assert_mirror(replies[2], execute, iec104.COT_ACTTERM)


def assert_refused(requests, received):
    assert len(requests) == 1, f"c104 sent {[r.hex(' ') for r in requests]}"
    assert len(received) == 1, f"expected one negative ACTCON and nothing else: {received}"
    assert_mirror(received[0], requests[0], iec104.COT_ACTCON, negative=True)


SBO = c104.CommandMode.SELECT_AND_EXECUTE


def test_single_direct_without_and_with_time_tag(daemon):
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2001, iec104.C_SC_NA_1, c104.SingleCmd(on=True)), iec104.M_SP_NA_1, 1001, True)
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2001, iec104.C_SC_TA_1, c104.SingleCmd(on=False, recorded_at=now_utc())),
                        iec104.M_SP_NA_1, 1001, False)


def test_single_select_before_operate(daemon):
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2002, iec104.C_SC_NA_1, c104.SingleCmd(on=True), SBO),
                        iec104.M_SP_NA_1, 1002, True, select=True)
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2002, iec104.C_SC_TA_1, c104.SingleCmd(on=False, recorded_at=now_utc()), SBO),
                        iec104.M_SP_NA_1, 1002, False, select=True)


def test_sbo_required_refuses_direct_execute(daemon):
    with C104Master(daemon.port, [48]) as master:
        assert_refused(*send(master, 2002, iec104.C_SC_NA_1, c104.SingleCmd(on=True)))


def test_point_without_sbo_refuses_select(daemon):
    with C104Master(daemon.port, [48]) as master:
        requests, received = send(master, 2003, iec104.C_SC_NA_1, c104.SingleCmd(on=True), SBO)
        assert len(requests) == 1 and iec104.decode_asdu(requests[0]).objects[0].extra["select"], \
            "c104 must stop after the refused select"
        assert_refused(requests, received)


def test_time_tag_policy_of_the_point(daemon):
    """2003 takes only C_SC_NA_1, 2004 only C_SC_TA_1: the other type gets a negative ACTCON."""
    with C104Master(daemon.port, [48]) as master:
        assert_refused(*send(master, 2003, iec104.C_SC_TA_1, c104.SingleCmd(on=True, recorded_at=now_utc())))
    with C104Master(daemon.port, [48]) as master:
        assert_refused(*send(master, 2004, iec104.C_SC_NA_1, c104.SingleCmd(on=True)))
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2004, iec104.C_SC_TA_1, c104.SingleCmd(on=True, recorded_at=now_utc())),
                        iec104.M_SP_NA_1, 1004, True)


def test_double_direct(daemon):
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2101, iec104.C_DC_NA_1, c104.DoubleCmd(state=c104.Double.ON)),
                        iec104.M_DP_NA_1, 1101, 2)
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2101, iec104.C_DC_TA_1,
                              c104.DoubleCmd(state=c104.Double.OFF, recorded_at=now_utc())),
                        iec104.M_DP_NA_1, 1101, 1)


def test_double_select_before_operate_time_tagged_feedback(daemon):
    """1102 has time_tag = true: its return information is M_DP_TB_1 with a valid CP56 time of now."""
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2102, iec104.C_DC_TA_1,
                              c104.DoubleCmd(state=c104.Double.ON, recorded_at=now_utc()), SBO),
                        iec104.M_DP_TB_1, 1102, 2, select=True, time_tagged=True)


def test_regulating_step(daemon):
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2201, iec104.C_RC_NA_1, c104.StepCmd(direction=c104.Step.HIGHER)),
                        iec104.M_ST_NA_1, 1201, 1)
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2201, iec104.C_RC_TA_1,
                              c104.StepCmd(direction=c104.Step.HIGHER, recorded_at=now_utc()), SBO),
                        iec104.M_ST_NA_1, 1201, 2, select=True)
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2201, iec104.C_RC_NA_1, c104.StepCmd(direction=c104.Step.LOWER)),
                        iec104.M_ST_NA_1, 1201, 1)


def test_setpoint_normalized(daemon):
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2301, iec104.C_SE_NA_1, c104.NormalizedCmd(target=c104.NormalizedFloat(0.25))),
                        iec104.M_ME_NA_1, 1301, 0.25)
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2301, iec104.C_SE_TA_1,
                              c104.NormalizedCmd(target=c104.NormalizedFloat(-0.5), recorded_at=now_utc())),
                        iec104.M_ME_NA_1, 1301, -0.5)


def test_setpoint_scaled(daemon):
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2401, iec104.C_SE_NB_1, c104.ScaledCmd(target=c104.Int16(-321)), SBO),
                        iec104.M_ME_NB_1, 1401, -321, select=True)
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2401, iec104.C_SE_TB_1,
                              c104.ScaledCmd(target=c104.Int16(32000), recorded_at=now_utc())),
                        iec104.M_ME_NB_1, 1401, 32000)


def test_setpoint_float_time_tagged_feedback(daemon):
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2501, iec104.C_SE_NC_1, c104.ShortCmd(target=12.5)),
                        iec104.M_ME_TF_1, 1501, 12.5, time_tagged=True)
    with C104Master(daemon.port, [48]) as master:
        assert_executed(*send(master, 2501, iec104.C_SE_TC_1, c104.ShortCmd(target=-99.25, recorded_at=now_utc())),
                        iec104.M_ME_TF_1, 1501, -99.25, time_tagged=True)


def byte32(value: int):
    # c104 2.2.1's Byte32(int) yields zero for values below 2**31; the bytes form (little-endian) is reliable.
    return c104.Byte32(struct.pack("<I", value))


def test_bitstring_without_actterm(daemon):
    """2601 has actterm = false: ACTCON and the feedback, no ACTTERM."""
    with C104Master(daemon.port, [48], command_timeout_ms=1000) as master:
        assert_executed(*send(master, 2601, iec104.C_BO_NA_1, c104.BinaryCmd(blob=byte32(0xA5A5F00F))),
                        iec104.M_BO_NA_1, 1601, 0xA5A5F00F, actterm=False)
    with C104Master(daemon.port, [48], command_timeout_ms=1000) as master:
        assert_executed(*send(master, 2601, iec104.C_BO_TA_1,
                              c104.BinaryCmd(blob=byte32(0x00010001), recorded_at=now_utc())),
                        iec104.M_BO_NA_1, 1601, 0x00010001, actterm=False)


def test_command_to_unknown_ioa(daemon):
    with C104Master(daemon.port, [48]) as master:
        requests, received = send(master, 3333, iec104.C_SC_NA_1, c104.SingleCmd(on=True))
        assert len(requests) == 1 and len(received) == 1, received
        assert_mirror(received[0], requests[0], iec104.COT_UNKNOWN_IOA, negative=True)


def test_select_before_operate_sequence_raw(daemon):
    """On 2005 (sbo required), frame by frame: a select gets ACTCON only; an execute that does not match
    the select is refused; a select can be cancelled with a deactivation (DEACTCON), after which an
    execute is refused; a select followed by the matching execute runs the command."""
    select_on = iec104.single_command(48, 2005, True, select=True)
    execute_on = iec104.single_command(48, 2005, True)
    execute_off = iec104.single_command(48, 2005, False)
    cancel = iec104.single_command(48, 2005, True, select=True, cause=iec104.COT_DEACTIVATION)

    def exchange(master, request, count):
        master.send_asdu(request)
        replies = master.replies(count)
        assert len(replies) == count, f"after {request.hex(' ')} expected {count} replies: {replies}"
        return replies

    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.collect(0.2)
        assert_mirror(exchange(master, select_on, 1)[0], select_on, iec104.COT_ACTCON)
        assert_mirror(exchange(master, execute_off, 1)[0], execute_off, iec104.COT_ACTCON, negative=True)

        assert_mirror(exchange(master, select_on, 1)[0], select_on, iec104.COT_ACTCON)
        assert_mirror(exchange(master, cancel, 1)[0], cancel, iec104.COT_DEACTCON)
        assert_mirror(exchange(master, execute_on, 1)[0], execute_on, iec104.COT_ACTCON, negative=True)

        assert_mirror(exchange(master, select_on, 1)[0], select_on, iec104.COT_ACTCON)
        actcon, event, actterm = exchange(master, execute_on, 3)
        assert_mirror(actcon, execute_on, iec104.COT_ACTCON)
        assert (event.type_id, event.cause, [(o.ioa, o.value) for o in event.objects]) == \
            (iec104.M_SP_NA_1, iec104.COT_RETURN_REMOTE, [(1005, True)]), event
        assert_mirror(actterm, execute_on, iec104.COT_ACTTERM)
        # The selection is used up: a second execute needs a new select.
        assert_mirror(exchange(master, execute_on, 1)[0], execute_on, iec104.COT_ACTCON, negative=True)
