"""Nothing lost (configs/nothing-lost.conf): numbered events pushed through the control socket while
the master drops its connection at random moments — also between I-frames and their acknowledgement —
arrive at least once and in order per point, as long as the event buffer holds them; and when the
buffer overflows, the loss is counted in the control socket status and in `rtu104ctl status`.

NOTHING_LOST_EVENTS (default 100000) sets how many events; NOTHING_LOST_SEED the random moments.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

import pytest

import iec104
from conftest import BINARY
from iec104 import LinkClosed, RawMaster
from robust import Control, Feeder, check_numbered, float_values

EVENTS = int(os.environ.get("NOTHING_LOST_EVENTS", "100000"))
SEED = int(os.environ.get("NOTHING_LOST_SEED", str(int(time.time()))))
POINTS = [(47, 5001), (47, 5002), (47, 5003), (47, 5004)]
TIME_LIMIT = 90.0


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("nothing-lost")


def extend_alarm(seconds: float) -> None:
    """This test may take longer than INTEROP_TEST_TIMEOUT; its own bound is `seconds`."""
    signal.setitimer(signal.ITIMER_REAL, max(seconds, signal.getitimer(signal.ITIMER_REAL)[0]))


def test_events_survive_random_disconnects(daemon, record_property):
    extend_alarm(TIME_LIMIT + 10)
    rng = random.Random(SEED)
    per_point = EVENTS // len(POINTS)
    feeder = Feeder(daemon.control_socket, POINTS, per_point, batch=max(per_point // 100, 1), pause=0.01)
    received: list[iec104.ASDU] = []
    reconnects = {"before-ack": 0, "after-ack": 0, "no-startdt": 0}
    started = time.monotonic()
    feeder.start()

    def have_all() -> bool:
        values = float_values(received)
        return all(len(set(values.get(ioa, []))) >= per_point for _, ioa in POINTS)

    deadline = started + TIME_LIMIT
    while not have_all():
        assert time.monotonic() < deadline, f"not every event within {TIME_LIMIT} s (feeder sent {feeder.sent})"
        master = RawMaster(daemon.port, ack=False)
        try:
            if rng.random() < 0.05:
                reconnects["no-startdt"] += 1  # connect and go away before STARTDT
                continue
            master.start_dt()
            budget = rng.randint(1, 400)  # I-frames on this connection before it drops
            unacknowledged = 0
            while budget > 0 and not have_all():
                try:
                    frame = master.next_apdu(1.0)
                except TimeoutError:
                    if unacknowledged:
                        master.ack()
                        unacknowledged = 0
                    continue
                if frame[2] & 1:
                    continue
                asdu = iec104.asdu_of_apdu(frame)
                if asdu.type_id != iec104.M_EI_NA_1:
                    received.append(asdu)
                budget -= 1
                unacknowledged += 1
                if unacknowledged >= 8:  # w
                    master.ack()
                    unacknowledged = 0
            if unacknowledged and rng.random() < 0.5:
                reconnects["before-ack"] += 1  # I-frames taken but never acknowledged
            else:
                if unacknowledged:
                    master.ack()
                reconnects["after-ack"] += 1
        except LinkClosed:
            pass
        finally:
            master.close()
        if rng.random() < 0.3:
            time.sleep(rng.random() * 0.05)
    elapsed = time.monotonic() - started
    feeder.finish()
    values = float_values(received)
    for _, ioa in POINTS:
        check_numbered(values[ioa], per_point)
    total = sum(len(v) for v in values.values())
    with Control(daemon.control_socket) as control:
        status = control.status()["flaky"]
    assert status["dropped_events"] == 0, status
    summary = (f"{EVENTS} events ({len(POINTS)} points) in {elapsed:.1f} s, seed {SEED}, reconnects {reconnects}, "
               f"{total - per_point * len(POINTS)} received twice")
    record_property("nothing_lost", summary)
    print(summary)


def test_overflow_is_counted_in_status_and_rtu104ctl(daemon):
    """Station small (event_buffer = 100, drop-oldest) gets 1,000 events with no master: 900 are
    dropped, counted in the control socket status and shown by `rtu104ctl status`; the master
    that comes later gets the newest 100, in order."""
    feeder = Feeder(daemon.control_socket, [(49, 7001)], 1000, batch=100, pause=0)
    feeder.start()
    feeder.finish()
    with Control(daemon.control_socket) as control:
        small = control.status()["small"]
    assert (small["buffered_events"], small["buffer_capacity"], small["dropped_events"]) == (100, 100, 900), small
    ctl = BINARY.parent / "rtu104ctl"
    if not ctl.exists():
        pytest.fail(f"{ctl} is missing; build it with `swift build --product rtu104ctl`")
    for how in (["--socket", str(daemon.control_socket)], []):
        env = dict(os.environ, RTU104_SOCKET=str(daemon.control_socket))
        out = subprocess.run([str(ctl), "status", *how], capture_output=True, text=True, timeout=10, env=env)
        assert out.returncode == 0, out.stderr
        block = out.stdout.split("station small", 1)[1].split("station ", 1)[0]
        assert "events buffered 100/100" in block and "dropped 900" in block, out.stdout
    with RawMaster(daemon.port, source="127.0.0.2") as master:
        master.start_dt()
        events = master.collect(1.0)
    values = float_values(events)[7001]
    assert values == [float(v) for v in range(901, 1001)], values[:5]
