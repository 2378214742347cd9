"""Built-in simulation (configs/simulation.conf, points-simulation.json): points with `simulate` move by themselves.

- A c104 master sees the sine (47:10) move with spontaneous events (COT 3), within offset ± amplitude.
- The raw master sees the toggle alternate, the counter count at its rate, the random walk stay in its bounds,
  and nothing for the sine within its deadband or the point that is not simulated.
- A `set` on the simulated counter holds it (60 s) at the value set.
- `rtu104d --check` counts the simulated points.
Every wait is bounded; everything runs on 127.0.0.1.
"""

import subprocess
import time

import pytest

import iec104
from conftest import BINARY
from iec104 import RawMaster
from test_spontaneous import set_points


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("simulation")


def spontaneous_values(asdus, ioa):
    return [obj.value for asdu in asdus if asdu.cause == iec104.COT_SPONTANEOUS and not asdu.negative
            for obj in asdu.objects if obj.ioa == ioa]


def test_c104_sees_the_simulated_sine_move_spontaneously(daemon):
    import c104
    from c104master import C104Master

    def run():
        with C104Master(daemon.port, [47]) as master:
            station = master.stations[47]
            # The point's events come from the start, so c104 may have made the point itself already.
            point = station.add_point(io_address=10, type=c104.Type.M_ME_NC_1) or station.get_point(io_address=10)
            assert point is not None
            since = master.mark()
            deadline = time.monotonic() + 10.0
            values = []
            while time.monotonic() < deadline:
                values = spontaneous_values(master.asdus(since), 10)
                if len(set(values)) >= 5:
                    break
                time.sleep(0.05)
            return values, point.value

    try:
        values, c104_value = run()
    except AssertionError:
        # c104 now and then never starts data transfer (DESIGN.md): once more before calling it a failure.
        values, c104_value = run()
    assert len(set(values)) >= 5, f"the sine did not move: {values}"
    assert all(39.99 <= value <= 60.01 for value in values), values
    assert 39.99 <= c104_value <= 60.01, f"c104's point value {c104_value}"


def test_raw_master_sees_toggle_counter_and_walk(daemon):
    with RawMaster(daemon.port) as master:
        master.start_dt()
        asdus = master.collect(3.0)
    toggles = spontaneous_values(asdus, 11)
    assert len(toggles) >= 3, asdus
    assert all(a != b for a, b in zip(toggles, toggles[1:])), f"each toggle the opposite: {toggles}"

    counts = spontaneous_values(asdus, 12)
    assert len(counts) >= 3, asdus
    assert all(b - a == 5 for a, b in zip(counts, counts[1:])), f"10 per second every 0.5 s: {counts}"

    walk = spontaneous_values(asdus, 14)
    assert len(walk) >= 5, asdus
    assert all(0 <= value <= 100 for value in walk), walk

    assert spontaneous_values(asdus, 13) == [], "a sine within its deadband sends nothing"
    assert spontaneous_values(asdus, 15) == [], "not simulated"
    # Every event is a spontaneous one: no other cause for a simulated value.
    assert {asdu.cause for asdu in asdus} == {iec104.COT_SPONTANEOUS}, asdus


def test_a_set_holds_the_simulated_counter(daemon):
    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.until(lambda a: any(o.ioa == 12 for o in a.objects), timeout=5.0)
        assert set_points(daemon, {"ca": 47, "ioa": 12, "value": 100000})["ok"]
        asdus = master.collect(2.0)
    counts = spontaneous_values(asdus, 12)
    assert counts and counts[-1] == 100000, f"held at the value set: {counts}"
    assert spontaneous_values(asdus, 11), "the other simulated points go on"


def test_check_counts_the_simulated_points(daemon):
    result = subprocess.run([str(BINARY), "--check", "--config", str(daemon.config_path)], capture_output=True,
                            text=True, timeout=10)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "simulated 5" in result.stdout, result.stdout
