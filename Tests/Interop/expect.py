"""What the test point tables hold, as the wire shows it, and assertions shared by the tests."""

import iec104
from iec104 import ASDU

# CA 47 of configs/points-main.json: ioa -> (type without time tag, value, quality flags).
MAIN_CA47 = {
    100: (iec104.M_SP_NA_1, False, set()),
    101: (iec104.M_SP_NA_1, True, set()),
    102: (iec104.M_SP_NA_1, True, {"invalid"}),
    103: (iec104.M_SP_NA_1, False, set()),
    200: (iec104.M_DP_NA_1, 2, set()),
    202: (iec104.M_DP_NA_1, 0, {"not_topical"}),
    300: (iec104.M_ST_NA_1, -5, set()),
    400: (iec104.M_BO_NA_1, 0xDEADBEEF, set()),
    500: (iec104.M_ME_NA_1, 0.5, set()),
    600: (iec104.M_ME_NB_1, -1234, set()),
    601: (iec104.M_ME_NB_1, 32767, {"overflow"}),
    700: (iec104.M_ME_NC_1, 230.5, {"substituted"}),
}
MAIN_GROUPS = {1: {100, 101, 200, 500}, 2: {101, 103, 700}, 3: {300, 400}, 16: set()}
# Counters: ioa -> (value, quality flags); counter groups.
MAIN_COUNTERS = {900: (123456, set()), 901: (-7, set()), 902: (42, set()), 903: (5, {"invalid"})}
MAIN_COUNTER_GROUPS = {1: {900}, 2: {901}, 3: set(), 4: {903}}


def mirrors(reply: ASDU, request: bytes, cause: int, negative: bool = False) -> bool:
    """Whether `reply` is `request` byte for byte apart from the COT octet (cause and P/N)."""
    expected = request[:2] + bytes([cause | (0x40 if negative else 0)]) + request[3:]
    return reply.raw == expected


def assert_mirror(reply: ASDU, request: bytes, cause: int, negative: bool = False) -> None:
    expected = request[:2] + bytes([cause | (0x40 if negative else 0)]) + request[3:]
    assert reply.raw == expected, (f"expected the request mirrored with COT {cause}{' P/N' if negative else ''}:\n"
                                   f"  expected {expected.hex(' ')}\n  received {reply.raw.hex(' ')}")


def points_of(asdus: list[ASDU]) -> dict[int, tuple[int, object, set]]:
    """ioa -> (type, value, quality) over the ASDUs; fails on a point reported twice."""
    out: dict[int, tuple[int, object, set]] = {}
    for asdu in asdus:
        for obj in asdu.objects:
            assert obj.ioa not in out, f"IOA {obj.ioa} reported twice: {asdus}"
            out[obj.ioa] = (asdu.type_id, obj.value, set(obj.quality))
    return out


def assert_interrogation(asdus: list[ASDU], request: bytes, ca: int, cause: int, expected: dict) -> list[ASDU]:
    """ACTCON first, then only COT `cause` data of `ca` with exactly `expected`, ACTTERM last.
    Returns the data ASDUs."""
    assert len(asdus) >= 2, f"expected at least ACTCON and ACTTERM, got {asdus}"
    assert_mirror(asdus[0], request, iec104.COT_ACTCON)
    assert_mirror(asdus[-1], request, iec104.COT_ACTTERM)
    data = asdus[1:-1]
    for asdu in data:
        assert asdu.cause == cause and not asdu.negative, f"expected COT {cause}: {asdu}"
        assert asdu.ca == ca, f"expected CA {ca}: {asdu}"
        assert asdu.type_id not in iec104.TIME_TAGGED, f"interrogation replies carry no time tag: {asdu}"
        assert asdu.originator == request[3], f"originator address not mirrored: {asdu}"
    assert points_of(data) == expected
    return data
