"""The link layer of the real daemon (IEC 60870-5-104 clause 5) with short timers
(configs/link.conf: k=3, w=2, t1=3 s, t2=1 s, t3=1 s, start_timeout=1 s), malformed frames on a
`close` and a `discard` listener, STOPDT, and the IV bit of time tags until the first clock sync."""

import datetime
import struct
import time

import pytest

import iec104
from expect import assert_mirror
from iec104 import LinkClosed, RawMaster

K, W, T1, T2, T3, START_TIMEOUT = 3, 2, 3.0, 1.0, 1.0, 1.0
SLACK = 1.5  # a loaded CI machine pauses processes; the lower bounds carry the precision


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("link", listeners=("main", "discard"))


def i_frames(frames: list[bytes]) -> list[bytes]:
    return [f for f in frames if f[2] & 1 == 0]


def s_frame_ack(frame: bytes) -> int | None:
    """N(R) of an S-frame, None for other frames."""
    if frame[2] & 3 != 1:
        return None
    return struct.unpack("<H", frame[4:6])[0] >> 1


def frames_within(master: RawMaster, seconds: float) -> list[bytes]:
    out = []
    deadline = time.monotonic() + seconds
    while True:
        try:
            out.append(master.next_apdu(max(deadline - time.monotonic(), 0.001)))
        except (TimeoutError, LinkClosed):
            return out


def i_frames_arriving(master: RawMaster, count: int, timeout: float = 1.2, quiet: float = 0.4) -> list[bytes]:
    """I-frames until `count` have come (or `timeout`), then any more within `quiet`."""
    out: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(i_frames(out)) < count:
        try:
            out.append(master.next_apdu(max(deadline - time.monotonic(), 0.001)))
        except (TimeoutError, LinkClosed):
            break
    return i_frames(out + frames_within(master, quiet))


def test_connection_without_startdt_is_closed_after_start_timeout(daemon):
    with RawMaster(daemon.port) as master:
        opened = time.monotonic()
        assert master.wait_closed(START_TIMEOUT + SLACK + 1), "still open long after start_timeout"
        elapsed = time.monotonic() - opened
        assert START_TIMEOUT - 0.2 <= elapsed <= START_TIMEOUT + SLACK, f"closed after {elapsed:.2f} s"


def test_testfr_after_t3_idle(daemon):
    with RawMaster(daemon.port) as master:
        master.start_dt()
        frames_within(master, 0.2)  # end of initialization
        idle_from = time.monotonic()
        frame = master.next_apdu(T3 + SLACK)
        elapsed = time.monotonic() - idle_from
        assert frame == iec104.TESTFR_ACT, frame.hex(" ")
        assert elapsed >= T3 - 0.3, f"TESTFR act after {elapsed:.2f} s of idle, t3 = {T3} s"
        # Answered (RawMaster sends TESTFR con): the link stays up and still serves.
        assert master.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM)[-1].cause == iec104.COT_ACTTERM


def test_k_window_and_t1(daemon):
    """Without acknowledgements the daemon sends k I-frames and stops; an S-frame releases the next k;
    unacknowledged for t1, the daemon closes the connection."""
    with RawMaster(daemon.port, ack=False) as master:
        master.start_dt()
        master.ack()
        frames_within(master, 0.2)  # end of initialization (k may hold it back too)
        master.ack()
        master.send_asdu(iec104.gi(47))
        first = i_frames_arriving(master, K)
        assert len(first) == K, f"expected exactly k = {K} I-frames before an acknowledgement, got {len(first)}"
        master.ack()
        sent_at = time.monotonic()  # the next k go out at once; t1 runs from then
        second = i_frames_arriving(master, K)
        assert len(second) == K, f"expected the next k = {K} I-frames after the S-frame, got {len(second)}"
        assert master.wait_closed(T1 + SLACK + 1), "unacknowledged I-frames did not close the link after t1"
        elapsed = time.monotonic() - sent_at
        assert T1 - 0.3 <= elapsed <= T1 + SLACK + 0.5, f"closed {elapsed:.2f} s after the last I-frames, t1 = {T1} s"


def test_w_acknowledgement(daemon):
    """Two I-frames that need no answer (C_CD_NA_1 with COT 3) are acknowledged at once (w = 2);
    one alone is acknowledged within t2."""
    unanswered = iec104.build_asdu(iec104.C_CD_NA_1, iec104.COT_SPONTANEOUS, 47, [(0, b"\x10\x00")])
    with RawMaster(daemon.port) as master:
        master.start_dt()
        frames_within(master, 0.2)
        master.send_asdu(unanswered)
        sent = time.monotonic()
        master.send_asdu(unanswered)
        frames = [master.next_apdu(T2 - 0.2)] + frames_within(master, 0.3)
        assert [s_frame_ack(f) for f in frames] == [2], f"expected one S-frame N(R)=2 at once: {[f.hex(' ') for f in frames]}"
        master.send_asdu(unanswered)
        sent = time.monotonic()
        frame = master.next_apdu(T2 + SLACK)
        elapsed = time.monotonic() - sent
        assert s_frame_ack(frame) == 3, frame.hex(" ")
        assert elapsed <= T2 + SLACK, f"acknowledged after {elapsed:.2f} s, t2 = {T2} s"


def test_stopdt_and_restart(daemon):
    with RawMaster(daemon.port) as master:
        master.start_dt()
        frames_within(master, 0.2)
        master.send_raw(iec104.STOPDT_ACT)
        assert bytes.fromhex("680423000000") in frames_within(master, 0.5), "no STOPDT con"
        master.start_dt()
        assert master.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM)[-1].cause == iec104.COT_ACTTERM


@pytest.mark.parametrize("garbage", [bytes.fromhex("68 03 00 00 00"), bytes.fromhex("12 34 56 78"),
                                     bytes.fromhex("68 04 03 00 00 00")])
def test_malformed_frame_closes_connection(daemon, garbage):
    """link_errors = close: a length below 4, a wrong start octet, an unknown U function close the link."""
    with RawMaster(daemon.port) as master:
        master.start_dt()
        frames_within(master, 0.2)
        master.send_raw(garbage)
        assert master.wait_closed(1.5), f"{garbage.hex(' ')} did not close the connection"


def test_malformed_octets_discarded(daemon):
    """link_errors = discard: octets up to the next 0x68 are skipped and the link goes on."""
    with RawMaster(daemon.ports["discard"]) as master:
        master.send_raw(bytes.fromhex("00 11 22 33"))
        master.start_dt()
        master.send_raw(bytes.fromhex("ff fe"))
        assert master.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM)[-1].cause == iec104.COT_ACTTERM


def test_time_tags_invalid_until_clock_sync(daemon):
    """invalid_time_until_sync = yes and time_tags = always: return information carries CP56 with
    IV = 1 until a C_CS_NA_1, then IV = 0."""
    def command(master: RawMaster, on: bool) -> iec104.ASDU:
        request = iec104.single_command(48, 2001, on)
        replies = master.request(request, until_cause=iec104.COT_ACTTERM)
        assert_mirror(replies[0], request, iec104.COT_ACTCON)
        [event] = [a for a in replies if a.cause == iec104.COT_RETURN_REMOTE]
        assert event.type_id == iec104.M_SP_TB_1 and event.objects[0].value is on, event
        return event

    with RawMaster(daemon.port) as master:
        master.start_dt()
        frames_within(master, 0.2)
        assert command(master, True).objects[0].time.invalid, "IV must be set before the first clock sync"
        sync = iec104.build_asdu(iec104.C_CS_NA_1, iec104.COT_ACTIVATION, 48,
                                 [(0, iec104.cp56_encode(datetime.datetime.now(datetime.timezone.utc)))])
        assert_mirror(master.request(sync)[-1], sync, iec104.COT_ACTCON)
        assert not command(master, False).objects[0].time.invalid, "IV must be clear after a clock sync"


def test_interrogation_deactivation_stops_the_interrogation(daemon):
    """With the k window holding the interrogation back, a deactivation gets a positive DEACTCON and
    no further COT 20 data nor ACTTERM follow (clause 7.4.4 of IEC 60870-5-101 as used by 104)."""
    request = iec104.gi(47)
    stop = iec104.gi(47, cause=iec104.COT_DEACTIVATION)
    with RawMaster(daemon.port, ack=False) as master:
        master.start_dt()
        frames_within(master, 0.2)
        master.ack()
        master.send_asdu(request)
        held = [iec104.asdu_of_apdu(f) for f in i_frames_arriving(master, K)]
        assert_mirror(held[0], request, iec104.COT_ACTCON)
        assert all(a.cause == iec104.COT_INTERROGATED for a in held[1:]), held
        master.send_asdu(stop)
        master.ack()
        rest = [iec104.asdu_of_apdu(f) for f in i_frames_arriving(master, 1)]
        master.ack()
        rest += [iec104.asdu_of_apdu(f) for f in frames_within(master, 0.5) if f[2] & 1 == 0]
        master.ack()
    deactcon = [a for a in rest if a.type_id == iec104.C_IC_NA_1]
    assert len(deactcon) == 1, rest
    assert_mirror(deactcon[0], stop, iec104.COT_DEACTCON)
    after = rest[rest.index(deactcon[0]) + 1:]
    assert after == [], f"interrogation data or ACTTERM after the DEACTCON: {after}"


def test_acknowledging_unsent_frames_closes_the_link(daemon):
    """An S-frame with N(R) beyond what the daemon sent is a protocol error: the link is closed (clause 5.1)."""
    with RawMaster(daemon.port) as master:
        master.start_dt()
        frames_within(master, 0.2)
        master.send_raw(bytes([0x68, 4, 0x01, 0]) + struct.pack("<H", 100 << 1))
        assert master.wait_closed(1.5), "an acknowledgement of unsent I-frames did not close the link"


def test_sequence_gap_from_master_closes_the_link(daemon):
    """An I-frame whose N(S) skips a number is a protocol error: the link is closed."""
    with RawMaster(daemon.port) as master:
        master.start_dt()
        frames_within(master, 0.2)
        master.send_seq = 5
        master.send_asdu(iec104.gi(47))
        assert master.wait_closed(1.5), "an I-frame out of sequence did not close the link"
