"""Quality that follows its source (configs/quality.conf, quality-start.conf, points-quality.json).

- stale_after: 47:100 (single, 1 s) and 47:200 (counter, 1 s) own it, 47:101 (float) takes the station's 1.5 s.
  Without an update they become NT (counters IV) with a spontaneous event; the next update clears it.
- The feeder qfeed declares 47:300-302 and writes them every 0.2 s; killed with SIGKILL, they are IV at once
  and the log names them; restarted after restart_delay (1 s), its writes clear it.
- start_quality = not_topical: a GI before any update shows NT; after an update the point is good; after a
  restart a counter restored from the state file is good, a point without a saved value NT again.
Every assertion is on received frames (c104's own point state is checked as well where it exposes it).
"""

import os
import signal
import time

import pytest

import iec104
from iec104 import RawMaster
from test_spontaneous import control, set_points


def quality_events(asdus, ioa):
    """(cause, quality) of every object for `ioa` in `asdus`, in order."""
    return [(asdu.cause, set(obj.quality)) for asdu in asdus for obj in asdu.objects if obj.ioa == ioa]


def wait_for_object(master, ioa, flags, timeout):
    """The first spontaneous object for `ioa` whose quality is exactly `flags`; TimeoutError otherwise."""
    found = master.until(lambda a: a.cause == iec104.COT_SPONTANEOUS
                         and any(o.ioa == ioa and set(o.quality) == flags for o in a.objects), timeout)
    return found[-1]


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("quality")


@pytest.fixture
def master(daemon):
    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.collect(0.2)
        yield master


@pytest.mark.parametrize("ioa, value, flag, limit", [
    (100, True, "not_topical", 1.0),
    (101, 7.5, "not_topical", 1.5),  # the station's stale_after
    (200, 42, "invalid", 1.0),        # a counter: BCR has no NT bit, so IV
])
def test_stale_point_is_reported_and_cleared_by_the_next_update(daemon, master, ioa, value, flag, limit):
    assert set_points(daemon, {"ca": 47, "ioa": ioa, "value": value})["ok"]
    updated = time.monotonic()
    # The update itself (its quality may clear a flag from before); then silence until the deadline.
    event = wait_for_object(master, ioa, {flag}, timeout=limit + 5.0)
    waited = time.monotonic() - updated
    assert event.cause == iec104.COT_SPONTANEOUS and not event.negative
    [obj] = [o for o in event.objects if o.ioa == ioa]
    assert obj.value == value, "the value is kept"
    # Not before its time (checked every 250 ms, so never much after; the upper bound is the wait above).
    assert waited >= limit - 0.05, f"marked after {waited:.2f} s, stale_after is {limit} s"
    print(f"47:{ioa} marked {flag} {waited:.2f} s after its update (stale_after {limit} s)")

    # The same value again: reported, with the flag cleared.
    assert set_points(daemon, {"ca": 47, "ioa": ioa, "value": value}) == {"ok": True, "events": 1}
    cleared = wait_for_object(master, ioa, set(), timeout=3.0)
    [obj] = [o for o in cleared.objects if o.ioa == ioa]
    assert obj.value == value
    assert "not updated within stale_after" in daemon.log_text()


def test_c104_sees_the_quality_set_and_cleared(daemon):
    import c104
    from c104master import C104Master

    with C104Master(daemon.port, [47]) as master:
        point = master.stations[47].add_point(io_address=100, type=c104.Type.M_SP_NA_1)
        assert point is not None
        since = master.mark()
        assert set_points(daemon, {"ca": 47, "ioa": 100, "value": True})["ok"]
        master.wait_for(lambda a: any(o.ioa == 100 and set(o.quality) == {"not_topical"} for o in a.objects),
                        since, timeout=6.0)
        deadline = time.monotonic() + 2.0
        while c104.Quality.NonTopical not in point.quality and time.monotonic() < deadline:
            time.sleep(0.05)
        assert c104.Quality.NonTopical in point.quality, f"c104's point quality: {point.quality}"

        since = master.mark()
        assert set_points(daemon, {"ca": 47, "ioa": 100, "value": True}) == {"ok": True, "events": 1}
        master.wait_for(lambda a: any(o.ioa == 100 and not o.quality for o in a.objects), since, timeout=3.0)
        deadline = time.monotonic() + 2.0
        while not point.quality.is_good() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert point.quality.is_good(), f"c104's point quality: {point.quality}"


def feeder_pid(daemon, timeout=10.0, other_than=None):
    path = daemon.directory / "qfeed.pid"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid = int(path.read_text().strip())
            if pid != other_than:
                return pid
        except (FileNotFoundError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"the feeder wrote no (new) PID to {path} within {timeout} s")


def test_killed_feeder_invalidates_its_points_until_it_writes_again(daemon, master):
    pid = feeder_pid(daemon)
    # The feeder has written its points (every 0.2 s): they are good now.
    deadline = time.monotonic() + 5.0
    while control(daemon, {"op": "get", "points": ["47:300"]}).get("points", [{}])[0].get("quality"):
        assert time.monotonic() < deadline, "47:300 did not become good"
        time.sleep(0.1)
    master.collect(0.3)

    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    invalid = {}
    while len(invalid) < 3:
        remaining = killed + 5.0 - time.monotonic()
        asdu = master.next_asdu(max(remaining, 0.001))
        for obj in asdu.objects:
            if asdu.cause == iec104.COT_SPONTANEOUS and obj.ioa in (300, 301, 302) and "invalid" in obj.quality:
                invalid.setdefault(obj.ioa, time.monotonic() - killed)
    latency = max(invalid.values())
    print(f"feeder killed: 47:300-302 invalid after {latency * 1000:.0f} ms")
    assert latency <= 1.0, f"the points were invalidated {latency:.2f} s after the kill"

    deadline = time.monotonic() + 3.0
    while "invalidated 3 points: 47:300-302" not in daemon.log_text():
        assert time.monotonic() < deadline, daemon.log_tail(20)
        time.sleep(0.05)
    line = next(l for l in daemon.log_text().splitlines() if "invalidated 3 points" in l)
    assert "feeder qfeed stopped (killed by signal 9)" in line, line
    # The status counts them (with whatever else is stale at the moment).
    [station] = control(daemon, {"op": "status"})["stations"]
    assert station["not_topical_or_invalid_points"] >= 3, station

    # restart_delay = 1 s: the new feeder writes the points and they recover.
    feeder_pid(daemon, other_than=pid)
    recovered = set()
    deadline = time.monotonic() + 10.0
    while len(recovered) < 3:
        asdu = master.next_asdu(max(deadline - time.monotonic(), 0.001))
        for obj in asdu.objects:
            if asdu.cause == iec104.COT_SPONTANEOUS and obj.ioa in (300, 301, 302) and not obj.quality:
                recovered.add(obj.ioa)


def test_start_quality_not_topical(daemon_factory):
    started = daemon_factory("quality-start")
    with RawMaster(started.port) as master:
        master.start_dt()
        master.collect(0.2)
        replies = master.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM, timeout=5.0)
        seen = {obj.ioa: set(obj.quality) for asdu in replies if asdu.cause == iec104.COT_INTERROGATED
                for obj in asdu.objects}
        assert seen[400] == {"not_topical"}, seen
        assert seen[100] == {"not_topical"}, seen
        assert 401 not in seen, "counters answer counter interrogation only"

        assert set_points(started, {"ca": 47, "ioa": 400, "value": False}) == {"ok": True, "events": 1}
        wait_for_object(master, 400, set(), timeout=3.0)
        replies = master.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM, timeout=5.0)
        seen = {obj.ioa: set(obj.quality) for asdu in replies if asdu.cause == iec104.COT_INTERROGATED
                for obj in asdu.objects}
        assert seen[400] == set(), seen
        assert seen[101] == {"not_topical"}, seen

        # A counter starts invalid (IV, the BCR's only quality bit).
        counters = master.request(iec104.build_asdu(iec104.C_CI_NA_1, iec104.COT_ACTIVATION, 47, [(0, bytes([5]))]),
                                  until_cause=iec104.COT_ACTTERM, timeout=5.0)
        values = {obj.ioa: set(obj.quality) for asdu in counters if asdu.type_id == iec104.M_IT_NA_1
                  for obj in asdu.objects}
        assert values[401] == {"invalid"}, values
        assert set_points(started, {"ca": 47, "ioa": 401, "value": 5}) == {"ok": True, "events": 1}

    # A restart: the counter's value comes back from the state file (saved at stop) with its source's quality.
    started.stop()
    started.start()
    with RawMaster(started.port) as master:
        master.start_dt()
        master.collect(0.2)
        counters = master.request(iec104.build_asdu(iec104.C_CI_NA_1, iec104.COT_ACTIVATION, 47, [(0, bytes([5]))]),
                                  until_cause=iec104.COT_ACTTERM, timeout=5.0)
        values = {obj.ioa: (obj.value, set(obj.quality)) for asdu in counters if asdu.type_id == iec104.M_IT_NA_1
                  for obj in asdu.objects}
        assert values[401] == (5, set()), values
        replies = master.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM, timeout=5.0)
        seen = {obj.ioa: set(obj.quality) for asdu in replies if asdu.cause == iec104.COT_INTERROGATED
                for obj in asdu.objects}
        assert seen[400] == {"not_topical"}, "not retained: NT again after the restart"
