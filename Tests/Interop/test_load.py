"""Load: LOAD_MASTERS (default 500) masters at once, each bound to its own station by its own address
filter (127.1.x.y) and serving its own common address. All of them interrogate and receive numbered
events at the same time (a second general interrogation while the events flow); every master must get
two complete GIs and all of its events, in order, and no event of another station. The daemon's RSS,
CPU time and file descriptors are read from /proc and printed (and recorded as test properties).

Bounded to LOAD_SECONDS (default 50) of work after start-up; one selector loop drives every socket.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from conftest import Daemon, free_port
from robust import Control, Crowd, CrowdMaster, check_numbered, crowd_address, crowd_config, proc_figures

MASTERS = int(os.environ.get("LOAD_MASTERS", "500"))
EVENTS = int(os.environ.get("LOAD_EVENTS", "100"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "50"))
EXPECTED_GI = {1, 2, 3, 10}


@pytest.fixture
def crowd_daemon(tmp_path):
    ports = {"main": free_port()}
    daemon = Daemon("load", tmp_path, ports)
    config, points = crowd_config(MASTERS, f"bind = 127.0.0.1:{ports['main']}", str(tmp_path / "points.json"),
                                  str(daemon.state_directory), str(daemon.runtime_directory))
    (tmp_path / "points.json").write_text(points)
    daemon.config_path.write_text(config)
    daemon.start()
    yield daemon
    daemon.stop()


def test_many_masters_interrogate_and_receive_events_at_once(crowd_daemon, record_property):
    signal.setitimer(signal.ITIMER_REAL, SECONDS + 10)
    daemon = crowd_daemon
    pid = daemon.process.pid
    idle = proc_figures(pid)
    began = time.monotonic()
    masters = [CrowdMaster(daemon.port, crowd_address(index), 1000 + index) for index in range(MASTERS)]
    crowd = Crowd(masters)
    deadline = began + SECONDS
    try:
        crowd.spin(deadline - time.monotonic(), until=lambda: all(m.gi_done >= 1 or m.closed for m in masters))
        failed = [(m.source, m.error) for m in masters if m.closed]
        assert not failed, f"{len(failed)} masters lost: {failed[:5]}"
        first_gi = time.monotonic() - began
        connected = proc_figures(pid)
        assert all(m.gi_done == 1 for m in masters), [m.source for m in masters if m.gi_done < 1][:5]
        for index, master in enumerate(masters):
            assert set(master.gi_points) == EXPECTED_GI, (master.source, master.gi_points)
            assert master.gi_points[3] == index, (master.source, master.gi_points)

        # Events for every station, one control request per number; a second GI halfway through.
        fed_from = time.monotonic()
        with Control(daemon.control_socket) as control:
            for value in range(1, EVENTS + 1):
                control.set([{"ca": 1000 + index, "ioa": 10, "value": float(value)} for index in range(MASTERS)])
                if value == EVENTS // 2:
                    for master in masters:
                        master.ask_gi()
                crowd.spin(0.02)
        crowd.spin(deadline - time.monotonic(), until=lambda: all(
            m.closed or (m.gi_done >= 2 and len(m.events.get(10, [])) >= EVENTS) for m in masters))
        delivered = time.monotonic() - fed_from
        loaded = proc_figures(pid)
        failed = [(m.source, m.error) for m in masters if m.closed]
        assert not failed, f"{len(failed)} masters lost: {failed[:5]}"
        short = [(m.source, m.gi_done, len(m.events.get(10, []))) for m in masters
                 if m.gi_done < 2 or len(m.events.get(10, [])) < EVENTS]
        assert not short, f"{len(short)} masters incomplete after {SECONDS} s: {short[:5]}"
        for master in masters:
            assert set(master.gi_points) == EXPECTED_GI, (master.source, master.gi_points)
            assert master.gi_points[10] in [float(v) for v in range(EVENTS // 2, EVENTS + 1)], master.gi_points
            assert set(master.events) == {10}, (master.source, set(master.events))
            check_numbered(master.events[10], EVENTS)
    finally:
        crowd.close()
    with Control(daemon.control_socket) as control:
        status = control.status()
    assert sum(station["dropped_events"] for station in status.values()) == 0
    summary = (f"{MASTERS} masters, {MASTERS * EVENTS} events, {MASTERS * 2} GIs: connected + first GI in "
               f"{first_gi:.1f} s, events + second GI delivered in {delivered:.1f} s; daemon RSS idle "
               f"{idle['rss_kib'] / 1024:.1f} MiB, {connected['rss_kib'] / 1024:.1f} MiB with {MASTERS} masters, "
               f"{loaded['rss_kib'] / 1024:.1f} MiB after the events; CPU {loaded['cpu_s'] - idle['cpu_s']:.1f} s "
               f"over {time.monotonic() - began:.1f} s; fds {loaded['fds']}")
    record_property("load", summary)
    print(summary)
