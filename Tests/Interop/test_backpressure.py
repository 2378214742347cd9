"""Event avalanche (configs/backpressure.conf): producers are slowed, not dropped, for masters that keep up;
a stalled master or one with `backpressure = no` holds nobody back; hostile control socket clients cannot
stall the event loop or grow the daemon's memory.

Every station has a small event buffer (200–500 events) and the producers offer thousands of numbered
events as fast as they can: without back-pressure the live masters' buffers would overflow at once.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

import iec104
from iec104 import LinkClosed, RawMaster
from robust import Control, check_numbered, float_values, proc_figures

POINTS = [(47, 5001), (47, 5002), (47, 5003), (47, 5004)]


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("backpressure")


class PacedMaster(threading.Thread):
    """A master from `source` that reads everything but acknowledges only every `ack_every` seconds
    (0: at once, like a fast master), or never (`stall`). Collects every ASDU."""

    def __init__(self, port: int, source: str, ack_every: float = 0.0, stall: bool = False):
        super().__init__(daemon=True)
        self.master = RawMaster(port, source=source, ack=False)
        self.master.start_dt()
        self.ack_every = ack_every
        self.stall = stall
        self.asdus: list[iec104.ASDU] = []
        self.stopped = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        last_ack = time.monotonic()
        try:
            while not self.stopped.is_set():
                try:
                    asdu = self.master.next_asdu(0.05)
                    self.asdus.append(asdu)
                except TimeoutError:
                    pass
                if self.stall:
                    continue
                if time.monotonic() - last_ack >= self.ack_every:
                    self.master.ack()
                    last_ack = time.monotonic()
        except LinkClosed:
            if not self.stopped.is_set():
                self.error = AssertionError("the daemon closed the master's link")
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error

    def values(self) -> dict[int, list[float]]:
        return float_values(list(self.asdus), ca=47)

    def wait_for(self, count: int, timeout: float, start: int = 1) -> None:
        """Until every point has `count` values from `start` on (earlier tests' events may come first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            values = self.values()
            if all(len([v for v in values.get(ioa, []) if v >= start]) >= count for _, ioa in POINTS):
                return
            assert self.error is None, self.error
            time.sleep(0.05)
        got = {ioa: len(v) for ioa, v in self.values().items()}
        raise AssertionError(f"not {count} events per point within {timeout} s: {got}")

    def stop(self) -> None:
        self.stopped.set()
        self.join(5)
        self.master.close()


def offer(control_path, start: int, count: int, batch: int = 250) -> tuple[int, float]:
    """Sets every point of POINTS to start…start+count-1 as fast as the daemon answers; every reply must
    be ok. Returns (events reported, seconds)."""
    began = time.monotonic()
    events = 0
    with Control(control_path, timeout=20.0) as control:
        value = start
        while value < start + count:
            upto = min(value + batch, start + count)
            reply = control.set([{"ca": ca, "ioa": ioa, "value": float(v)} for v in range(value, upto) for ca, ioa in POINTS])
            events += reply["events"]
            value = upto
    return events, time.monotonic() - began


def status(daemon) -> dict:
    with Control(daemon.control_socket) as control:
        reply = control.request({"op": "status"})
    assert reply["ok"], reply
    return reply


def test_a_slow_but_live_master_receives_every_acknowledged_update(daemon):
    """The slow master acknowledges every 20 ms: the producer is slowed to its pace and every update whose
    `set` was answered ok arrives, in order, although 8,000 events pass a 500-event buffer."""
    slow = PacedMaster(daemon.port, "127.0.0.1", ack_every=0.02)
    slow.start()
    try:
        before = {s["name"]: s for s in status(daemon)["stations"]}["slow"]["dropped_events"]
        count = 2000
        events, _ = offer(daemon.control_socket, 1, count)
        assert events == count * len(POINTS)
        slow.wait_for(count, timeout=25)
        for _, ioa in POINTS:
            check_numbered(slow.values()[ioa], count)
        after = status(daemon)
        station = {s["name"]: s for s in after["stations"]}["slow"]
        assert station["dropped_events"] == before, "the slow master's buffer overflowed"
        assert after["ingest"]["holds"] >= 1, f"the producer was never held back: {after['ingest']}"
        assert after["ingest"]["held_seconds"] > 0
        assert slow.error is None, slow.error
    finally:
        slow.stop()


def test_a_stalled_master_holds_nobody_back(daemon):
    """One master stops acknowledging after its first window: the fast master beside it receives every event,
    the producer finishes, and only the stalled station's buffer overflows (counted)."""
    dropped_before = {s["name"]: s["dropped_events"] for s in status(daemon)["stations"]}
    stalled = PacedMaster(daemon.port, "127.0.0.2", stall=True)
    fast = PacedMaster(daemon.port, "127.0.0.3")
    stalled.start()
    fast.start()
    try:
        start = 10_001
        count = 3000
        events, seconds = offer(daemon.control_socket, start, count)
        assert events == count * len(POINTS)
        fast.wait_for(count, timeout=20, start=start)
        for _, ioa in POINTS:
            check_numbered([v for v in fast.values()[ioa] if v >= start], count, start=start)
        stations = {s["name"]: s for s in status(daemon)["stations"]}
        assert stations["stalled"]["dropped_events"] > dropped_before["stalled"]
        assert stations["stalled"]["buffered_events"] == 300
        assert stations["fast"]["dropped_events"] == dropped_before["fast"], "the fast master lost events" 
        assert fast.error is None, fast.error
        assert stalled.error is None, stalled.error
    finally:
        stalled.stop()
        fast.stop()


def test_backpressure_off_overflows_instead_of_holding(daemon):
    """A master with `backpressure = no` that acknowledges slowly: the producer is not slowed for it
    (it finishes long before the master could take everything) and that station counts its overflow."""
    dropped_before = {s["name"]: s["dropped_events"] for s in status(daemon)["stations"]}
    archive = PacedMaster(daemon.port, "127.0.0.4", ack_every=0.2)
    archive.start()
    try:
        events, seconds = offer(daemon.control_socket, 50_001, 2000)
        assert events == 2000 * len(POINTS)
        assert seconds < 5, f"the producer took {seconds:.1f} s: held back by a station with backpressure = no"
        stations = {s["name"]: s for s in status(daemon)["stations"]}
        assert stations["archive"]["dropped_events"] > dropped_before["archive"]
        assert archive.error is None, archive.error
    finally:
        archive.stop()


def gi_completes(port: int, source: str) -> bool:
    with RawMaster(port, source=source) as master:
        master.start_dt()
        replies = master.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM, timeout=10)
        return replies[-1].cause == iec104.COT_ACTTERM


def test_malformed_lines_get_an_error_each_then_the_client_is_let_go(daemon):
    """A client writing megabytes of malformed lines gets one error reply per line until
    control_error_limit (100 here) refusals in a row, then one log line and the connection closes;
    a master's GIs complete meanwhile."""
    done = threading.Event()
    results: dict = {}

    def flood() -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        sock.connect(str(daemon.control_socket))
        received = b""
        sent = 0
        junk = b'{"op":"set","points":[{"ca":47,"ioa":5001,"value":"nonsense"}]}\n' * 2000
        try:
            while sent < 20_000_000:
                sock.sendall(junk)
                sent += len(junk)
                sock.setblocking(False)
                try:
                    while True:
                        chunk = sock.recv(65536)
                        if not chunk:
                            raise ConnectionResetError
                        received += chunk
                except BlockingIOError:
                    pass
                sock.settimeout(10)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        sock.settimeout(2)
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError:
            pass
        results["replies"] = [json.loads(line) for line in received.splitlines() if line]
        results["sent"] = sent
        done.set()

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    completed = 0
    while not done.is_set() and completed < 20:
        assert gi_completes(daemon.port, "127.0.0.3")
        completed += 1
    thread.join(15)
    assert done.is_set(), "the flooding client was never let go"
    replies = results["replies"]
    assert len(replies) == 100, f"{len(replies)} replies before the disconnect"
    assert all(not r["ok"] and "float value" in r["error"] for r in replies), replies[:3]
    assert gi_completes(daemon.port, "127.0.0.3")
    assert "control socket client disconnected after 100 refused requests in a row" in daemon.log_text()


def test_a_client_that_never_reads_holds_bounded_memory(daemon):
    """A client that writes valid `get` requests and never reads a reply: once its unread replies reach the
    socket's limit it is no longer read from, the daemon's memory stays flat, and masters' GIs complete."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(daemon.control_socket))
    sock.settimeout(0.5)
    request = b'{"op":"get"}\n' * 1000
    rss_before = proc_figures(daemon.process.pid)["rss_kib"]
    written = 0
    try:
        while written < 200_000_000:
            sock.sendall(request)
            written += len(request)
    except (socket.timeout, BlockingIOError):
        pass  # the daemon stopped reading: our writes block
    try:
        assert written < 200_000_000, "the daemon read 200 MB of requests whose replies nobody reads"
        for _ in range(3):
            assert gi_completes(daemon.port, "127.0.0.3")
        rss_after = proc_figures(daemon.process.pid)["rss_kib"]
        assert rss_after - rss_before < 64 * 1024, f"RSS grew by {rss_after - rss_before} KiB"
        # The client is still served when it reads again.
        sock.settimeout(5)
        assert json.loads(sock.recv(65536).split(b"\n", 1)[0])["ok"]
    finally:
        sock.close()


def test_a_breaker_change_overtakes_queued_measured_values(daemon):
    """With the master's window held full and 1,000 measured values queued, a status change (single point
    47:1001, priority high by default) goes out in the first I-frame once the master acknowledges."""
    with RawMaster(daemon.port, source="127.0.0.3", ack=False) as master:
        master.start_dt()
        master.collect(0.3)
        with Control(daemon.control_socket) as control:
            for start in range(60_001, 60_251, 50):  # 1,000 float events, 250 per point
                control.set([{"ca": ca, "ioa": ioa, "value": float(v)} for v in range(start, start + 50) for ca, ioa in POINTS])
            # The window is full now (k = 12 unacknowledged I-frames); read them all before the breaker moves.
            window = [frame for frame in master.received if frame[2] & 1 == 0]
            deadline = time.monotonic() + 3
            while len(window) < 12 and time.monotonic() < deadline:
                master.collect(0.1)
                window = [frame for frame in master.received if frame[2] & 1 == 0]
            assert len(window) == 12, f"{len(window)} I-frames in the window"
            control.set([{"point": "47:1001", "value": True}])
        master.ack()
        nxt = master.next_asdu(3.0)
        assert (nxt.type_id, nxt.cause, [o.ioa for o in nxt.objects]) == (iec104.M_SP_NA_1, iec104.COT_SPONTANEOUS, [1001]), nxt


def test_with_no_error_limit_every_malformed_line_gets_its_error(daemon):
    """After a reload sets control_error_limit = 0, a client writing 4 MB of malformed lines (reading its
    replies as it goes) gets exactly one error reply per line and is never disconnected; GIs complete
    throughout, and the event loop is never stalled for long."""
    text = daemon.config_path.read_text()
    daemon.config_path.write_text(text.replace("control_error_limit = 100", "control_error_limit = 0"))
    try:
        with Control(daemon.control_socket) as control:
            assert control.request({"op": "reload"})["ok"]
        line = b'{"op":"set","points":[{"ca":47,"ioa":5001,"value":"nonsense"}]}\n'
        lines = 4_000_000 // len(line)
        counts = {"replies": 0, "errors": 0}
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(daemon.control_socket))
        sock.settimeout(20)

        def read_replies() -> None:
            buffer = b""
            while counts["replies"] < lines:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    return
                buffer += chunk
                *complete, buffer = buffer.split(b"\n")
                for reply in complete:
                    counts["replies"] += 1
                    if b'"ok":false' in reply:
                        counts["errors"] += 1

        reader = threading.Thread(target=read_replies, daemon=True)
        reader.start()
        writer = threading.Thread(target=lambda: sock.sendall(line * lines), daemon=True)
        writer.start()
        gis = 0
        while reader.is_alive() and gis < 200:
            assert gi_completes(daemon.port, "127.0.0.3")
            gis += 1
        reader.join(25)
        writer.join(5)
        sock.close()
        assert counts == {"replies": lines, "errors": lines}
        assert gis >= 1
    finally:
        daemon.config_path.write_text(text)
        with Control(daemon.control_socket) as control:
            assert control.request({"op": "reload"})["ok"]
