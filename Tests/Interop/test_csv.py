"""The daemon on a CSV point table (configs/points-csv.csv): a general interrogation returns its points
with the types and values of the table."""
import pytest

import iec104
from iec104 import RawMaster


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("csv")


def test_general_interrogation_returns_the_csv_points(daemon):
    with RawMaster(daemon.port) as master:
        master.start_dt()
        replies = master.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM)
    assert replies[0].cause == iec104.COT_ACTCON
    assert replies[-1].cause == iec104.COT_ACTTERM
    points = {o.ioa: (a.type_id, o.value) for a in replies if a.cause == iec104.COT_INTERROGATED for o in a.objects}
    assert sorted(points) == [1, 2, 10, 11]
    assert points[1][0] == iec104.M_SP_NA_1 and points[1][1] in (True, 1)
    assert points[2][0] == iec104.M_DP_NA_1
    assert points[10][0] == iec104.M_ME_NC_1 and points[10][1] == pytest.approx(230.5)
    assert points[11] == (iec104.M_ME_NB_1, -12)


def test_group_interrogation_follows_the_list_cells(daemon):
    with RawMaster(daemon.port) as master:
        master.start_dt()
        replies = master.request(iec104.gi(47, qoi=22), until_cause=iec104.COT_ACTTERM)
    ioas = sorted(o.ioa for a in replies if a.cause == 22 for o in a.objects)
    assert ioas == [2, 11]
