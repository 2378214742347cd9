"""A tiny IEC 60870-5-104 codec and raw master for the interop tests.

Independent of the daemon and of c104: it decodes what comes off the wire byte by byte,
so the tests judge the daemon's frames themselves, and it can send frames c104 will not
(unknown type IDs, monitor types in control direction, wrong causes, a chosen source address).
"""

from __future__ import annotations

import datetime
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

# Cause of transmission (IEC 60870-5-101 clause 7.2.3).
COT_PERIODIC = 1
COT_BACKGROUND = 2
COT_SPONTANEOUS = 3
COT_INITIALIZED = 4
COT_REQUEST = 5
COT_ACTIVATION = 6
COT_ACTCON = 7
COT_DEACTIVATION = 8
COT_DEACTCON = 9
COT_ACTTERM = 10
COT_RETURN_REMOTE = 11
COT_RETURN_LOCAL = 12
COT_INTERROGATED = 20  # 21..36: group 1..16
COT_COUNTER_GENERAL = 37  # 38..41: counter group 1..4
COT_UNKNOWN_TYPE = 44
COT_UNKNOWN_CAUSE = 45
COT_UNKNOWN_CA = 46
COT_UNKNOWN_IOA = 47

# Type identifications used by the tests.
M_SP_NA_1, M_DP_NA_1, M_ST_NA_1, M_BO_NA_1 = 1, 3, 5, 7
M_ME_NA_1, M_ME_NB_1, M_ME_NC_1, M_IT_NA_1 = 9, 11, 13, 15
M_SP_TB_1, M_DP_TB_1, M_ST_TB_1, M_BO_TB_1 = 30, 31, 32, 33
M_ME_TD_1, M_ME_TE_1, M_ME_TF_1, M_IT_TB_1 = 34, 35, 36, 37
C_SC_NA_1, C_DC_NA_1, C_RC_NA_1, C_SE_NA_1, C_SE_NB_1, C_SE_NC_1, C_BO_NA_1 = 45, 46, 47, 48, 49, 50, 51
C_SC_TA_1, C_DC_TA_1, C_RC_TA_1, C_SE_TA_1, C_SE_TB_1, C_SE_TC_1, C_BO_TA_1 = 58, 59, 60, 61, 62, 63, 64
M_EI_NA_1 = 70
C_IC_NA_1, C_CI_NA_1, C_RD_NA_1, C_CS_NA_1, C_TS_NA_1, C_RP_NA_1, C_CD_NA_1, C_TS_TA_1 = 100, 101, 102, 103, 104, 105, 106, 107
P_ME_NA_1 = 110

CP56 = 7
# Octets of one information element (without IOA) per type.
ELEMENT_LENGTH = {
    1: 1, 3: 1, 5: 2, 7: 5, 9: 3, 11: 3, 13: 5, 15: 5,
    30: 1 + CP56, 31: 1 + CP56, 32: 2 + CP56, 33: 5 + CP56, 34: 3 + CP56, 35: 3 + CP56, 36: 5 + CP56, 37: 5 + CP56,
    45: 1, 46: 1, 47: 1, 48: 3, 49: 3, 50: 5, 51: 4,
    58: 1 + CP56, 59: 1 + CP56, 60: 1 + CP56, 61: 3 + CP56, 62: 3 + CP56, 63: 5 + CP56, 64: 4 + CP56,
    70: 1, 100: 1, 101: 1, 102: 0, 103: CP56, 104: 2, 105: 1, 106: 2, 107: 2 + CP56,
    110: 3, 111: 3, 112: 5, 113: 1,
}
TIME_TAGGED = {30, 31, 32, 33, 34, 35, 36, 37, 58, 59, 60, 61, 62, 63, 64, 103, 107}

QUALITY_FLAGS = {0x01: "overflow", 0x10: "blocked", 0x20: "substituted", 0x40: "not_topical", 0x80: "invalid"}

STARTDT_ACT = bytes.fromhex("680407000000")
STARTDT_CON = bytes.fromhex("68040B000000")
STOPDT_ACT = bytes.fromhex("680413000000")
TESTFR_ACT = bytes.fromhex("680443000000")
TESTFR_CON = bytes.fromhex("680483000000")


# MARK: time tags

def cp56_encode(when: datetime.datetime) -> bytes:
    when = when.astimezone(datetime.timezone.utc)
    ms = when.second * 1000 + when.microsecond // 1000
    return struct.pack("<HBBBBB", ms, when.minute, when.hour, when.day | (when.isoweekday() << 5),
                       when.month, when.year - 2000)


@dataclass
class CP56Time:
    milliseconds: int  # of the minute
    minute: int
    hour: int
    day: int
    month: int
    year: int
    invalid: bool
    summer: bool

    @staticmethod
    def decode(raw: bytes) -> "CP56Time":
        ms, minute, hour, day, month, year = struct.unpack("<HBBBBB", raw)
        return CP56Time(ms, minute & 0x3F, hour & 0x1F, day & 0x1F, month & 0x0F, 2000 + (year & 0x7F),
                        bool(minute & 0x80), bool(hour & 0x80))

    def unix_ms(self) -> int:
        base = datetime.datetime(self.year, self.month, self.day, self.hour, self.minute,
                                 tzinfo=datetime.timezone.utc)
        return int(base.timestamp()) * 1000 + self.milliseconds


# MARK: ASDU decoding

@dataclass
class InfoObject:
    ioa: int
    raw: bytes
    value: Any = None
    quality: frozenset = frozenset()
    time: CP56Time | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class ASDU:
    type_id: int
    sequence: bool
    count: int
    cause: int
    negative: bool
    test: bool
    originator: int
    ca: int
    objects: list[InfoObject]
    raw: bytes

    def __repr__(self) -> str:
        objs = ", ".join(f"{o.ioa}={o.value!r}{'/' + ','.join(sorted(o.quality)) if o.quality else ''}" for o in self.objects)
        return (f"ASDU(type={self.type_id} sq={int(self.sequence)} cot={self.cause}{' P/N' if self.negative else ''} "
                f"ca={self.ca} [{objs}] raw={self.raw.hex(' ')})")


def _quality(octet: int, mask: int = 0xF1) -> frozenset:
    return frozenset(name for bit, name in QUALITY_FLAGS.items() if octet & bit & mask)


def _decode_element(type_id: int, data: bytes) -> tuple[Any, frozenset, dict]:
    base = type_id
    if type_id in (30, 31, 32, 33):
        base = {30: 1, 31: 3, 32: 5, 33: 7}[type_id]
    elif type_id in (34, 35, 36, 37):
        base = {34: 9, 35: 11, 36: 13, 37: 15}[type_id]
    if base == 1:
        return bool(data[0] & 1), _quality(data[0], 0xF0), {}
    if base == 3:
        return data[0] & 3, _quality(data[0], 0xF0), {}
    if base == 5:
        v = data[0] & 0x7F
        if v >= 64:
            v -= 128
        return v, _quality(data[1]), {"transient": bool(data[0] & 0x80)}
    if base == 7:
        return struct.unpack("<I", data[0:4])[0], _quality(data[4]), {}
    if base == 9:
        return struct.unpack("<h", data[0:2])[0] / 32768.0, _quality(data[2]), {}
    if base == 11:
        return struct.unpack("<h", data[0:2])[0], _quality(data[2]), {}
    if base == 13:
        return struct.unpack("<f", data[0:4])[0], _quality(data[4]), {}
    if base == 15:
        seq = data[4]
        return (struct.unpack("<i", data[0:4])[0], frozenset({"invalid"}) if seq & 0x80 else frozenset(),
                {"sequence": seq & 0x1F, "carry": bool(seq & 0x20), "adjusted": bool(seq & 0x40)})
    if type_id in (45, 58):
        return bool(data[0] & 1), frozenset(), {"select": bool(data[0] & 0x80), "qu": (data[0] >> 2) & 0x1F}
    if type_id in (46, 47, 59, 60):
        return data[0] & 3, frozenset(), {"select": bool(data[0] & 0x80), "qu": (data[0] >> 2) & 0x1F}
    if type_id in (48, 61):
        return struct.unpack("<h", data[0:2])[0] / 32768.0, frozenset(), {"select": bool(data[2] & 0x80)}
    if type_id in (49, 62):
        return struct.unpack("<h", data[0:2])[0], frozenset(), {"select": bool(data[2] & 0x80)}
    if type_id in (50, 63):
        return struct.unpack("<f", data[0:4])[0], frozenset(), {"select": bool(data[4] & 0x80)}
    if type_id in (51, 64):
        return struct.unpack("<I", data[0:4])[0], frozenset(), {}
    if type_id in (70, 100, 101, 105, 113):
        return data[0], frozenset(), {}
    if type_id in (104, 106, 107):
        return struct.unpack("<H", data[0:2])[0], frozenset(), {}
    return data, frozenset(), {}


def decode_asdu(raw: bytes) -> ASDU:
    if len(raw) < 6:
        raise ValueError(f"ASDU of {len(raw)} octets is shorter than its header: {raw.hex(' ')}")
    type_id, vsq, cot, originator = raw[0], raw[1], raw[2], raw[3]
    ca = raw[4] | raw[5] << 8
    sequence, count = bool(vsq & 0x80), vsq & 0x7F
    asdu = ASDU(type_id, sequence, count, cot & 0x3F, bool(cot & 0x40), bool(cot & 0x80), originator, ca, [], bytes(raw))
    size = ELEMENT_LENGTH.get(type_id)
    if size is None:
        return asdu  # unknown type: header only
    pos = 6
    ioa = 0
    for index in range(count):
        if not sequence or index == 0:
            ioa = raw[pos] | raw[pos + 1] << 8 | raw[pos + 2] << 16
            pos += 3
        else:
            ioa += 1
        data = raw[pos:pos + size]
        if len(data) != size:
            raise ValueError(f"ASDU truncated at object {index}: {raw.hex(' ')}")
        pos += size
        value, quality, extra = _decode_element(type_id, data)
        tag = CP56Time.decode(data[-CP56:]) if type_id in TIME_TAGGED else None
        asdu.objects.append(InfoObject(ioa, bytes(data), value, quality, tag, extra))
    if pos != len(raw):
        raise ValueError(f"ASDU length {len(raw)} does not match {count} objects of type {type_id}: {raw.hex(' ')}")
    return asdu


def split_apdus(stream: bytes) -> tuple[list[bytes], bytes]:
    """Splits a byte stream into complete APDUs (start 0x68 .. end) and the remainder."""
    frames = []
    pos = 0
    while len(stream) - pos >= 2:
        if stream[pos] != 0x68:
            raise ValueError(f"expected start octet 0x68 at {pos}, found {stream[pos]:#04x}: {stream.hex(' ')}")
        length = stream[pos + 1]
        if len(stream) - pos < 2 + length:
            break
        frames.append(bytes(stream[pos:pos + 2 + length]))
        pos += 2 + length
    return frames, stream[pos:]


def asdu_of_apdu(apdu: bytes) -> ASDU | None:
    """The decoded ASDU of an I-frame, None for S- and U-frames."""
    if len(apdu) < 6 or apdu[0] != 0x68 or apdu[2] & 1:
        return None
    return decode_asdu(apdu[6:])


# MARK: ASDU building

def build_asdu(type_id: int, cause: int, ca: int, objects: list[tuple[int, bytes]], *, sequence: bool = False,
               negative: bool = False, originator: int = 0) -> bytes:
    vsq = (0x80 if sequence else 0) | len(objects)
    out = bytearray([type_id, vsq, cause | (0x40 if negative else 0), originator, ca & 0xFF, ca >> 8])
    for index, (ioa, element) in enumerate(objects):
        if not sequence or index == 0:
            out += struct.pack("<I", ioa)[:3]
        out += element
    return bytes(out)


def gi(ca: int, qoi: int = 20, cause: int = COT_ACTIVATION) -> bytes:
    return build_asdu(C_IC_NA_1, cause, ca, [(0, bytes([qoi]))])


def single_command(ca: int, ioa: int, on: bool, *, select: bool = False, time_tag: datetime.datetime | None = None,
                   cause: int = COT_ACTIVATION) -> bytes:
    sco = (1 if on else 0) | (0x80 if select else 0)
    if time_tag is None:
        return build_asdu(C_SC_NA_1, cause, ca, [(ioa, bytes([sco]))])
    return build_asdu(C_SC_TA_1, cause, ca, [(ioa, bytes([sco]) + cp56_encode(time_tag))])


# MARK: raw master

class LinkClosed(Exception):
    pass


class RawMaster:
    """A minimal controlling station over a plain socket.

    Acknowledges every I-frame with an S-frame at once and answers TESTFR act, so the
    daemon's k window never fills. Every wait has a deadline.
    """

    def __init__(self, port: int, host: str = "127.0.0.1", source: str | None = None, timeout: float = 5.0,
                 ack: bool = True):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if source is not None:
            self.sock.bind((source, 0))
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.buffer = b""
        self.send_seq = 0
        self.recv_seq = 0
        self.received: list[bytes] = []  # every APDU, in order
        self.closed = False
        self.auto_ack = ack
        self.sent_s_frames = 0

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "RawMaster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def ack(self) -> None:
        """An S-frame acknowledging every I-frame received so far."""
        self.sock.sendall(bytes([0x68, 4, 0x01, 0]) + struct.pack("<H", (self.recv_seq << 1) & 0xFFFF))
        self.sent_s_frames += 1

    def send_asdu(self, asdu: bytes) -> None:
        control = struct.pack("<HH", (self.send_seq << 1) & 0xFFFF, (self.recv_seq << 1) & 0xFFFF)
        self.sock.sendall(bytes([0x68, 4 + len(asdu)]) + control + asdu)
        self.send_seq = (self.send_seq + 1) & 0x7FFF

    def _read_some(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(4096)
        except socket.timeout:
            raise TimeoutError from None
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed = True
            raise LinkClosed
        self.buffer += chunk

    def next_apdu(self, timeout: float) -> bytes:
        """The next APDU (handling acknowledgements on the way); TimeoutError or LinkClosed."""
        deadline = time.monotonic() + timeout
        while True:
            frames, rest = split_apdus(self.buffer)
            if frames:
                frame = frames[0]
                self.buffer = b"".join(frames[1:]) + rest
                self.received.append(frame)
                if frame[2] & 1 == 0:  # I-frame: its N(S) must be the next in sequence (clause 5.1)
                    send_seq = struct.unpack("<H", frame[2:4])[0] >> 1
                    if send_seq != self.recv_seq:
                        raise AssertionError(f"I-frame N(S) = {send_seq}, expected {self.recv_seq}: {frame.hex(' ')}")
                    self.recv_seq = (self.recv_seq + 1) & 0x7FFF
                    if self.auto_ack:
                        self.ack()
                elif frame[2] == 0x43:  # TESTFR act
                    self.sock.sendall(TESTFR_CON)
                return frame
            self._read_some(deadline)

    def next_asdu(self, timeout: float, skip_init: bool = True) -> ASDU:
        deadline = time.monotonic() + timeout
        while True:
            asdu = asdu_of_apdu(self.next_apdu(max(deadline - time.monotonic(), 0.001)))
            if asdu is None or (skip_init and asdu.type_id == M_EI_NA_1):
                continue
            return asdu

    def collect(self, seconds: float, skip_init: bool = True) -> list[ASDU]:
        """Every ASDU that arrives within `seconds` (stops early if the link closes)."""
        out = []
        deadline = time.monotonic() + seconds
        while True:
            try:
                out.append(self.next_asdu(max(deadline - time.monotonic(), 0.001), skip_init))
            except (TimeoutError, LinkClosed):
                return out

    def replies(self, count: int, timeout: float = 3.0, quiet: float = 0.3) -> list[ASDU]:
        """Waits (up to `timeout`) for `count` ASDUs, then `quiet` seconds more for any extra one,
        so that a slow machine does not turn into a missing reply and an extra reply is still seen."""
        out: list[ASDU] = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            try:
                out.append(self.next_asdu(max(deadline - time.monotonic(), 0.001)))
            except (TimeoutError, LinkClosed):
                return out
        return out + self.collect(quiet)

    def until(self, predicate, timeout: float, skip_init: bool = True) -> list[ASDU]:
        """ASDUs up to and including the first that satisfies `predicate`; TimeoutError with what came."""
        out: list[ASDU] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                asdu = self.next_asdu(max(deadline - time.monotonic(), 0.001), skip_init)
            except TimeoutError:
                raise TimeoutError(f"no matching ASDU within {timeout} s; received {out}") from None
            out.append(asdu)
            if predicate(asdu):
                return out

    def start_dt(self, timeout: float = 3.0) -> None:
        self.send_raw(STARTDT_ACT)
        deadline = time.monotonic() + timeout
        while True:
            frame = self.next_apdu(max(deadline - time.monotonic(), 0.001))
            if frame == STARTDT_CON:
                return

    def request(self, asdu: bytes, until_cause: int | None = None, timeout: float = 3.0) -> list[ASDU]:
        """Sends `asdu` and returns replies up to the first with the same type and `until_cause`
        (default: any confirmation with the same type)."""
        self.send_asdu(asdu)
        type_id = asdu[0]
        if until_cause is None:
            return self.until(lambda a: a.type_id == type_id and a.cause in (COT_ACTCON, COT_DEACTCON, 44, 45, 46, 47),
                              timeout)
        return self.until(lambda a: a.type_id == type_id and a.cause == until_cause, timeout)

    def wait_closed(self, timeout: float) -> bool:
        """True if the peer closes the connection within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.next_apdu(max(deadline - time.monotonic(), 0.001))
            except LinkClosed:
                return True
            except TimeoutError:
                return False
            except OSError:
                return True
