"""The persistent event journal (configs/event-journal.conf, station `journaled` with event_journal = on).

Numbered events stream through the control socket (a producer that learns which updates were accepted: a `set`
is answered once its events are in the journal) while the daemon is killed with SIGKILL at random moments,
with its master away or connected and acknowledging slowly. After the last restart a master collects
everything: every accepted event arrives, first arrivals in order per point; nothing the master acknowledged
well before a kill comes again. The same through SIGTERM and a start; a damaged journal is moved aside.

JOURNAL_KILLS (default 50) sets how many kills; JOURNAL_SEED the random moments.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time

import pytest

import iec104
from conftest import BINARY, configured_daemon
from iec104 import LinkClosed, RawMaster
from robust import Control

KILLS = int(os.environ.get("JOURNAL_KILLS", "50"))
SEED = int(os.environ.get("JOURNAL_SEED", str(int(time.time()))))
POINTS = [(47, 5001), (47, 5002), (47, 5003)]
# An acknowledgement the daemon had this long to commit before the kill must not be undone by it.
ACK_MARGIN = 1.0


def extend_alarm(seconds: float) -> None:
    signal.setitimer(signal.ITIMER_REAL, max(seconds, signal.getitimer(signal.ITIMER_REAL)[0]))


class Producer(threading.Thread):
    """Sets every point to `first`, `first`+1, … (`batch` numbers per request) until stopped or the link breaks;
    `accepted` is the highest number whose request was answered ok, `sent` the highest ever asked for."""

    def __init__(self, control_path, first: int, batch: int = 5):
        super().__init__(daemon=True)
        self.control_path = control_path
        self.next = first
        self.batch = batch
        self.accepted = first - 1
        self.sent = first - 1
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            with Control(self.control_path, timeout=5.0) as control:
                while not self.stopped.is_set():
                    numbers = range(self.next, self.next + self.batch)
                    self.sent = numbers[-1]
                    reply = control.request({"op": "set", "points": [
                        {"ca": ca, "ioa": ioa, "value": float(n)} for n in numbers for ca, ioa in POINTS]})
                    if not reply.get("ok"):
                        return
                    self.accepted = numbers[-1]
                    self.next = numbers[-1] + 1
        except (OSError, AssertionError, ValueError):
            return  # the daemon was killed mid-request


class SlowMaster(threading.Thread):
    """A master that acknowledges every 8th I-frame only after a pause; records each value with the time the
    acknowledgement covering it was sent (None while unacknowledged)."""

    def __init__(self, port: int, pause: float):
        super().__init__(daemon=True)
        self.port = port
        self.pause = pause
        self.values: list[tuple[int, float, list]] = []  # (ioa, value, [ack time])
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            master = RawMaster(self.port, ack=False, timeout=2.0)
            master.start_dt()
        except (OSError, LinkClosed, TimeoutError):
            return
        pending: list[list] = []
        frames = 0
        try:
            while not self.stopped.is_set():
                try:
                    frame = master.next_apdu(0.5)
                except TimeoutError:
                    continue
                if frame[2] & 1:
                    continue
                asdu = iec104.asdu_of_apdu(frame)
                frames += 1
                if asdu is not None and asdu.type_id == iec104.M_ME_NC_1 and asdu.cause == iec104.COT_SPONTANEOUS:
                    for obj in asdu.objects:
                        stamp: list = []
                        pending.append(stamp)
                        self.values.append((obj.ioa, obj.value, stamp))
                if frames % 8 == 0:
                    time.sleep(self.pause)
                    master.ack()
                    now = time.monotonic()
                    for stamp in pending:
                        stamp.append(now)
                    pending = []
        except (OSError, LinkClosed):
            pass
        finally:
            master.close()


def collect_all(port: int, done, timeout: float) -> dict[int, list[float]]:
    """A master that acknowledges at once, until `done(values)` holds (or the time is up)."""
    values: dict[int, list[float]] = {ioa: [] for _, ioa in POINTS}
    with RawMaster(port, timeout=5.0) as master:
        master.start_dt()
        deadline = time.monotonic() + timeout
        while not done(values) and time.monotonic() < deadline:
            try:
                asdu = master.next_asdu(1.0)
            except TimeoutError:
                continue
            if asdu.type_id == iec104.M_ME_NC_1 and asdu.cause == iec104.COT_SPONTANEOUS:
                for obj in asdu.objects:
                    values[obj.ioa].append(obj.value)
        # Anything else still coming (a resent duplicate) is collected too.
        for asdu in master.collect(0.5):
            if asdu.type_id == iec104.M_ME_NC_1 and asdu.cause == iec104.COT_SPONTANEOUS:
                for obj in asdu.objects:
                    values[obj.ioa].append(obj.value)
    return values


@pytest.mark.parametrize("sync", ["full", "normal"])
def test_nothing_accepted_is_lost_to_kill_9(tmp_path, record_property, sync):
    kills = KILLS if sync == "full" else max(KILLS // 5, 3)
    extend_alarm(60 + kills * 4)
    rng = random.Random(SEED)
    record_property("seed", SEED)
    daemon = configured_daemon(tmp_path, "event-journal", ("main",), sync=sync)
    received: dict[int, list[float]] = {ioa: [] for _, ioa in POINTS}
    acknowledged_early: set[float] = set()
    next_number = 1
    accepted = 0
    rounds: list[str] = []  # for a failure's message: what each round asked for and had accepted
    required: set[int] = set()  # every number a `set` was answered ok for
    try:
        for round_number in range(kills):
            daemon.start()
            master = SlowMaster(daemon.port, pause=rng.uniform(0.01, 0.1)) if round_number % 2 else None
            if master:
                master.start()
            producer = Producer(daemon.control_socket, next_number)
            producer.start()
            time.sleep(rng.uniform(0.05, 0.5))
            daemon.kill()
            killed_at = time.monotonic()
            producer.stopped.set()
            producer.join(5)
            assert not producer.is_alive(), "the producer did not notice the kill"
            accepted = max(accepted, producer.accepted)
            required.update(range(next_number, producer.accepted + 1))
            rounds.append(f"round {round_number}: {next_number}…{producer.accepted} accepted, up to {producer.sent} asked"
                          f"{', slow master' if master else ''}")
            next_number = producer.sent + 1  # an unanswered request may or may not have been accepted
            if master:
                master.stopped.set()
                master.join(5)
                for ioa, value, stamp in master.values:
                    received[ioa].append(value)
                    if stamp and stamp[0] < killed_at - ACK_MARGIN:
                        acknowledged_early.add((ioa, value))
        daemon.start()
        earlier = {ioa: set(map(int, received[ioa])) for _, ioa in POINTS}
        after = collect_all(daemon.port, lambda values: all(
            required <= earlier[ioa] | set(map(int, values[ioa])) for _, ioa in POINTS), timeout=60)
        log = daemon.log_text()
        daemon.stop()
    finally:
        daemon.kill()
    record_property("accepted", accepted)
    for _, ioa in POINTS:
        again = [value for value in after[ioa] if (ioa, value) in acknowledged_early]
        assert not again, f"IOA {ioa}: {len(again)} events acknowledged before a kill came again, first {again[:5]}"
        # Every accepted number, first arrivals in increasing order (a resent one may come twice).
        # Every accepted number; first arrivals in increasing order (a resent one may come twice, and one asked
        # for but not answered before the kill may or may not have been accepted).
        firsts: list[int] = []
        seen: set[int] = set()
        for value in received[ioa] + after[ioa]:
            number = int(value)
            if not firsts or number > firsts[-1]:
                firsts.append(number)
                seen.add(number)
            else:
                assert number in seen, f"IOA {ioa}: {number} out of order after {firsts[-5:]}"
        missing = sorted(required - seen)
        assert not missing, (f"IOA {ioa}: {len(missing)} of {len(required)} accepted events missing, first "
                             f"{missing[:10]}\n" + "\n".join(rounds))
    assert "events kept at the last stop will be sent again" in log
    assert accepted > kills, f"only {accepted} numbers accepted in {kills} rounds"


def test_a_stop_and_start_resend_what_no_master_took(tmp_path):
    daemon = configured_daemon(tmp_path, "event-journal", ("main",), sync="full")
    daemon.start()
    try:
        with Control(daemon.control_socket) as control:
            for first in range(1, 501, 50):
                control.set([{"ca": ca, "ioa": ioa, "value": float(n)} for n in range(first, first + 50)
                             for ca, ioa in POINTS])
        daemon.stop()
        daemon.start()
        values = collect_all(daemon.port, lambda values: all(len(values[ioa]) >= 500 for _, ioa in POINTS), timeout=30)
        for _, ioa in POINTS:
            assert values[ioa] == [float(n) for n in range(1, 501)], f"IOA {ioa}: {values[ioa][:10]}…"
        assert "1500 events kept at the last stop will be sent again (journaled: 1500)" in daemon.log_text()
        with Control(daemon.control_socket) as control:
            journal = control.request({"op": "status"})["event_journal"]
        assert journal["path"] == str(daemon.state_directory / "events.db") and journal["sync"] == "full"
        assert journal["events_kept"] == 0 and journal["commits"] >= 1 and journal["failed_commits"] == 0, journal
        status = subprocess.run([str(BINARY.parent / "rtu104ctl"), "status", "--socket", str(daemon.control_socket)],
                                capture_output=True, text=True, timeout=10)
        assert f"event journal {daemon.state_directory / 'events.db'} (sync full): 0 events kept" in status.stdout, \
            status.stdout + status.stderr
        # Acknowledged now: a second restart has nothing to send.
        daemon.stop()
        daemon.start()
        with RawMaster(daemon.port) as master:
            master.start_dt()
            assert [a for a in master.collect(1.0) if a.cause == iec104.COT_SPONTANEOUS] == []
        daemon.stop()
    finally:
        daemon.kill()


def test_a_damaged_journal_is_moved_aside_and_the_daemon_starts(tmp_path):
    daemon = configured_daemon(tmp_path, "event-journal", ("main",), sync="full")
    daemon.state_directory.mkdir(exist_ok=True)
    (daemon.state_directory / "events.db").write_bytes(b"this is not an SQLite database" * 200)
    daemon.start()
    try:
        log = daemon.log_text()
        assert "event journal" in log and "is damaged" in log and "starting with an empty journal" in log, log
        aside = [p.name for p in daemon.state_directory.iterdir() if p.name.startswith("events.db.damaged-")]
        assert aside, list(daemon.state_directory.iterdir())
        # The new journal works: an event accepted now survives a kill.
        with Control(daemon.control_socket) as control:
            control.set([{"ca": 47, "ioa": 5001, "value": 7.0}])
        daemon.kill()
        daemon.start()
        values = collect_all(daemon.port, lambda values: bool(values[5001]), timeout=15)
        assert values[5001] == [7.0]
        daemon.stop()
    finally:
        daemon.kill()
