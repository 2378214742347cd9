"""Helpers for the robustness tests (test_hostile, test_nothing_lost, test_load, test_access) and
scripts/soak: the control socket, a feeder of numbered events, a legitimate master that collects
them on a thread, a selector-driven crowd of masters, and /proc figures of the daemon.

Numbered events: a float point (M_ME_NC_1, no deadband) is set to 1, 2, 3, … through the control
socket; every value differs from the one before, so every set is one event. The master checks that
it got every number at least once and that first arrivals are in increasing order.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import struct
import threading
import time
from pathlib import Path

import iec104
from iec104 import LinkClosed, RawMaster


# MARK: control socket

class Control:
    """One connection to the control socket; requests one after another on it."""

    def __init__(self, path: Path | str, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while not Path(path).exists():
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} does not exist")
            time.sleep(0.05)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buffer = b""

    def request(self, request: dict) -> dict:
        self.sock.sendall((json.dumps(request, separators=(",", ":")) + "\n").encode())
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"control socket closed before a reply line: {self.buffer!r}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def set(self, points: list[dict]) -> dict:
        reply = self.request({"op": "set", "points": points})
        assert reply.get("ok"), reply
        return reply

    def status(self) -> dict:
        reply = self.request({"op": "status"})
        assert reply.get("ok"), reply
        return {station["name"]: station for station in reply["stations"]}

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Control":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Feeder(threading.Thread):
    """Sets `points` ((ca, ioa) pairs) to 1, 2, … `count` (each point in turn gets every number),
    `batch` numbers per request, pausing `pause` seconds between requests."""

    def __init__(self, control_path: Path, points: list[tuple[int, int]], count: int, batch: int = 10,
                 pause: float = 0.01, start: int = 1):
        super().__init__(daemon=True)
        self.control_path = control_path
        self.points = points
        self.count = count
        self.batch = batch
        self.pause = pause
        self.start_value = start
        self.sent = 0
        self.error: BaseException | None = None
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            with Control(self.control_path) as control:
                value = self.start_value
                last = self.start_value + self.count - 1
                while value <= last and not self.stopped.is_set():
                    upto = min(value + self.batch - 1, last)
                    control.set([{"ca": ca, "ioa": ioa, "value": float(v)}
                                 for v in range(value, upto + 1) for ca, ioa in self.points])
                    self.sent = upto - self.start_value + 1
                    value = upto + 1
                    if self.pause:
                        time.sleep(self.pause)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error

    def finish(self, timeout: float = 20.0) -> None:
        self.join(timeout)
        assert not self.is_alive(), "the feeder did not finish"
        if self.error:
            raise self.error


def float_values(asdus: list[iec104.ASDU], ca: int | None = None) -> dict[int, list[float]]:
    """Values of spontaneous float events per IOA, in arrival order."""
    out: dict[int, list[float]] = {}
    for asdu in asdus:
        if asdu.type_id in (iec104.M_ME_NC_1, iec104.M_ME_TF_1) and asdu.cause == iec104.COT_SPONTANEOUS \
                and (ca is None or asdu.ca == ca):
            for obj in asdu.objects:
                out.setdefault(obj.ioa, []).append(obj.value)
    return out


def check_numbered(values: list[float], count: int, start: int = 1) -> None:
    """Every number start…start+count-1 at least once, first arrivals in increasing order."""
    seen: set[int] = set()
    firsts: list[int] = []
    for value in values:
        number = int(value)
        assert number == value, f"not a numbered event: {value}"
        if number not in seen:
            seen.add(number)
            firsts.append(number)
    missing = sorted(set(range(start, start + count)) - seen)
    assert not missing, f"{len(missing)} of {count} events missing, first {missing[:10]}"
    assert firsts == sorted(firsts), "events out of order: " + str(
        next((a, b) for a, b in zip(firsts, firsts[1:]) if b < a))


class LegitMaster(threading.Thread):
    """The working master: STARTDT on `port` from `source`, then collects ASDUs until stopped
    or until it holds `until` events of `ioa`. Any loss of its link is an error."""

    def __init__(self, port: int, source: str = "127.0.0.1"):
        super().__init__(daemon=True)
        self.master = RawMaster(port, source=source)
        self.master.start_dt()
        self.asdus: list[iec104.ASDU] = []
        self.error: BaseException | None = None
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                try:
                    asdu = self.master.next_asdu(0.2)
                except TimeoutError:
                    continue
                with self.lock:
                    self.asdus.append(asdu)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error

    def values(self, ioa: int) -> list[float]:
        with self.lock:
            return float_values(list(self.asdus)).get(ioa, [])

    def wait_for(self, ioa: int, count: int, timeout: float = 15.0) -> list[float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.error is None:
            values = self.values(ioa)
            if len(set(values)) >= count:
                return values
            time.sleep(0.05)
        if self.error:
            raise AssertionError(f"the legitimate master lost its link: {self.error!r}")
        return self.values(ioa)

    def stop(self) -> None:
        self.stopped.set()
        self.join(5)
        self.master.close()
        if self.error:
            raise AssertionError(f"the legitimate master lost its link: {self.error!r}")


# MARK: the daemon from outside

def proc_figures(pid: int) -> dict:
    """RSS (KiB), CPU seconds (user + system) and open file descriptors of a process."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return {"rss_kib": rss, "cpu_s": cpu, "fds": fds}


def lines_mentioning(log_text: str, needle: str, since: int = 0) -> list[str]:
    return [line for line in log_text.splitlines()[since:] if needle in line]


def drain_until_closed(sock: socket.socket, timeout: float) -> tuple[bool, bytes]:
    """Reads without ever answering until the peer closes (True) or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    got = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False, got
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return False, got
        except (ConnectionResetError, BrokenPipeError):
            return True, got
        if not chunk:
            return True, got
        got += chunk


def connect(port: int, source: str | None = None, timeout: float = 3.0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if source:
        sock.bind((source, 0))
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    return sock


# MARK: many masters in one selector loop

class CrowdMaster:
    """One non-blocking master of a crowd: STARTDT, a GI of its common address, then events."""

    def __init__(self, port: int, source: str, ca: int):
        self.source = source
        self.ca = ca
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.bind((source, 0))
        self.sock.setblocking(False)
        self.sock.connect_ex(("127.0.0.1", port))
        self.port = port
        self.buffer = bytearray()
        self.out = bytearray()
        self.recv_seq = 0
        self.send_seq = 0
        self.unacked = 0
        self.started = False
        self.connected = False
        self.gi_points: dict[int, object] = {}
        self.gi_done = 0
        self.gi_asked = 0
        self.events: dict[int, list[float]] = {}
        self.closed = False
        self.error: str | None = None

    def fileno(self) -> int:
        return self.sock.fileno()

    def queue(self, data: bytes) -> None:
        self.out += data

    def ask_gi(self) -> None:
        asdu = iec104.gi(self.ca)
        control = struct.pack("<HH", (self.send_seq << 1) & 0xFFFF, (self.recv_seq << 1) & 0xFFFF)
        self.out += bytes([0x68, 4 + len(asdu)]) + control + asdu
        self.send_seq = (self.send_seq + 1) & 0x7FFF
        self.unacked = 0
        self.gi_asked += 1
        self.gi_points = {}

    def on_writable(self) -> None:
        if not self.connected:
            error = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                self.fail(f"connect failed: {os.strerror(error)}")
                return
            self.connected = True
            self.out = bytearray(iec104.STARTDT_ACT) + self.out
        if self.out:
            try:
                sent = self.sock.send(self.out)
            except BlockingIOError:
                return
            except OSError as error:
                self.fail(f"send: {error}")
                return
            del self.out[:sent]

    def on_readable(self) -> None:
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError as error:
            self.fail(f"recv: {error}")
            return
        if not chunk:
            self.fail("closed by the daemon")
            return
        self.buffer += chunk
        pos = 0
        while len(self.buffer) - pos >= 2:
            if self.buffer[pos] != 0x68:
                self.fail(f"bad start octet {self.buffer[pos]:#x}")
                return
            length = self.buffer[pos + 1]
            if len(self.buffer) - pos < 2 + length:
                break
            frame = bytes(self.buffer[pos:pos + 2 + length])
            pos += 2 + length
            self.frame(frame)
        del self.buffer[:pos]
        if self.unacked:
            self.out += bytes([0x68, 4, 0x01, 0]) + struct.pack("<H", (self.recv_seq << 1) & 0xFFFF)
            self.unacked = 0

    def frame(self, frame: bytes) -> None:
        if frame == iec104.STARTDT_CON:
            self.started = True
            self.ask_gi()
            return
        if frame == iec104.TESTFR_ACT:
            self.out += iec104.TESTFR_CON
            return
        if frame[2] & 1:
            return  # S-frame or other U-frame
        self.recv_seq = (self.recv_seq + 1) & 0x7FFF
        self.unacked += 1
        asdu = iec104.decode_asdu(frame[6:])
        if asdu.type_id == iec104.C_IC_NA_1:
            if asdu.cause == iec104.COT_ACTTERM:
                self.gi_done += 1
            elif asdu.cause != iec104.COT_ACTCON:
                self.fail(f"unexpected GI reply {asdu}")
        elif asdu.cause == iec104.COT_INTERROGATED:
            for obj in asdu.objects:
                self.gi_points[obj.ioa] = obj.value
        elif asdu.cause == iec104.COT_SPONTANEOUS:
            if asdu.ca != self.ca:
                self.fail(f"event of CA {asdu.ca} on the master of CA {self.ca}")
            for obj in asdu.objects:
                self.events.setdefault(obj.ioa, []).append(obj.value)

    def fail(self, why: str) -> None:
        if self.error is None:
            self.error = why
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


class Crowd:
    """Many CrowdMasters in one selector loop."""

    def __init__(self, masters: list[CrowdMaster]):
        self.masters = masters
        self.selector = selectors.DefaultSelector()
        self.registered: dict[int, int] = {}
        for master in masters:
            self._register(master)

    def _register(self, master: CrowdMaster) -> None:
        mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if (master.out or not master.connected) else 0)
        self.selector.register(master.sock, mask, master)
        self.registered[id(master)] = mask

    def spin(self, seconds: float, until=None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for master in self.masters:
                if master.closed:
                    if id(master) in self.registered:
                        try:
                            self.selector.unregister(master.sock)
                        except (KeyError, ValueError):
                            pass
                        del self.registered[id(master)]
                    continue
                mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if (master.out or not master.connected) else 0)
                if self.registered.get(id(master)) != mask:
                    self.selector.modify(master.sock, mask, master)
                    self.registered[id(master)] = mask
            for key, events in self.selector.select(timeout=0.05):
                master = key.data
                if events & selectors.EVENT_WRITE:
                    master.on_writable()
                if events & selectors.EVENT_READ and not master.closed:
                    master.on_readable()
                if not master.closed and master.out and master.connected:
                    master.on_writable()
            if until is not None and until():
                return

    def close(self) -> None:
        for master in self.masters:
            if not master.closed:
                master.sock.close()
                master.closed = True
        self.selector.close()


def crowd_config(count: int, port_line: str, points_path: str, state: str, runtime: str,
                 event_buffer: int = 10000) -> tuple[str, str]:
    """A daemon config with `count` stations on one listener, station i bound to 127.1.x.y and
    serving CA 1000+i, and its point table: per CA a single (IOA 1), a double (2), a scaled (3)
    and the numbered float (IOA 10)."""
    lines = [
        "; generated by robust.crowd_config: one station per master, bound by its address filter",
        "[daemon]", f"point_tables = {points_path}", f"state_directory = {state}", f"runtime_directory = {runtime}",
        "", "[listener main]", port_line, f"max_connections = {count + 16}", "",
    ]
    points = []
    for index in range(count):
        ca = 1000 + index
        lines += [f"[station s{index}]", "listener = main", f"allow = {crowd_address(index)}",
                  f"common_addresses = {ca}", f"event_buffer = {event_buffer}", ""]
        points += [
            {"ca": ca, "ioa": 1, "type": "single", "value": index % 2 == 0},
            {"ca": ca, "ioa": 2, "type": "double", "value": "on"},
            {"ca": ca, "ioa": 3, "type": "scaled", "value": index},
            {"ca": ca, "ioa": 10, "type": "float", "value": 0.0},
        ]
    return "\n".join(lines), json.dumps({"comment": "generated by robust.crowd_config", "points": points})


def crowd_address(index: int) -> str:
    return f"127.1.{index // 250}.{index % 250 + 1}"
