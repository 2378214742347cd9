"""Negative confirmations from the real daemon, driven by hand-built frames (most of these c104 will
not send). IEC 60870-5-101 clause 7.2.3 / 104 clause 7.2.3: the request is mirrored with COT 44
(unknown type identification), 45 (unknown cause), 46 (unknown common address) or 47 (unknown
information object address) and the P/N bit set; the connection stays up."""

import pytest

import iec104
from expect import assert_mirror
from iec104 import RawMaster, build_asdu


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("main")


ACT = iec104.COT_ACTIVATION

CASES = {
    # unknown type identification -> 44
    "P_ME_NA_1 (parameter, not served)": (build_asdu(iec104.P_ME_NA_1, ACT, 47, [(600, b"\x10\x00\x00")]), 44),
    "M_SP_NA_1 in control direction": (build_asdu(iec104.M_SP_NA_1, ACT, 47, [(100, b"\x01")]), 44),
    "M_ME_NC_1 spontaneous in control direction": (build_asdu(iec104.M_ME_NC_1, 3, 47, [(700, b"\x00\x00\x80\x3f\x00")]), 44),
    "undefined type 200": (build_asdu(200, ACT, 47, [(1, b"\x00")]), 44),
    "C_TS_NA_1 (IEC 101 only)": (build_asdu(iec104.C_TS_NA_1, ACT, 47, [(0, b"\xaa\x55")]), 44),
    # unknown cause of transmission -> 45
    "C_IC_NA_1 with COT 5": (iec104.gi(47, cause=iec104.COT_REQUEST), 45),
    "C_SC_NA_1 with COT 3": (build_asdu(iec104.C_SC_NA_1, 3, 48, [(2001, b"\x01")]), 45),
    "C_RD_NA_1 with COT 6": (build_asdu(iec104.C_RD_NA_1, ACT, 47, [(100, b"")]), 45),
    "C_CS_NA_1 with COT 8": (build_asdu(iec104.C_CS_NA_1, 8, 47, [(0, bytes(7))]), 45),
    # unknown common address -> 46
    "C_IC_NA_1 for CA 99": (iec104.gi(99), 46),
    "C_CI_NA_1 for CA 99": (build_asdu(iec104.C_CI_NA_1, ACT, 99, [(0, b"\x05")]), 46),
    "C_SC_NA_1 for CA 99": (build_asdu(iec104.C_SC_NA_1, ACT, 99, [(2001, b"\x01")]), 46),
    "C_RD_NA_1 for CA 99": (build_asdu(iec104.C_RD_NA_1, iec104.COT_REQUEST, 99, [(100, b"")]), 46),
    "C_SC_NA_1 for the broadcast CA": (build_asdu(iec104.C_SC_NA_1, ACT, 0xFFFF, [(2001, b"\x01")]), 46),
    # unknown information object address -> 47
    "C_SC_NA_1 for IOA 9999": (build_asdu(iec104.C_SC_NA_1, ACT, 48, [(9999, b"\x01")]), 47),
    "C_SE_NC_1 for IOA 9999": (build_asdu(iec104.C_SE_NC_1, ACT, 48, [(9999, b"\x00\x00\x80\x3f\x00")]), 47),
    "C_RD_NA_1 for IOA 9999": (build_asdu(iec104.C_RD_NA_1, iec104.COT_REQUEST, 47, [(9999, b"")]), 47),
    "C_IC_NA_1 with IOA 5": (build_asdu(iec104.C_IC_NA_1, ACT, 47, [(5, b"\x14")]), 47),
    "C_SC_NA_1 to a monitor point's IOA": (build_asdu(iec104.C_SC_NA_1, ACT, 47, [(100, b"\x01")]), 47),
}


@pytest.mark.parametrize("name", list(CASES))
def test_negative_confirmation(daemon, name):
    request, cause = CASES[name]
    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.send_asdu(request)
        replies = master.replies(1)
        assert len(replies) == 1, f"expected exactly one negative confirmation, got {replies}"
        assert_mirror(replies[0], request, cause, negative=True)
        # The link stays up and the station keeps answering.
        master.send_raw(iec104.TESTFR_ACT)
        assert master.next_apdu(2.0) == iec104.TESTFR_CON
        assert master.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM)[-1].cause == iec104.COT_ACTTERM
