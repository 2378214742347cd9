"""c104 (PyPI c104==2.2.1) as the controlling station, with every received frame recorded.

c104's own return values are not trusted for confirmations (Point.transmit() can return True
after a negative ACTCON); the tests judge the raw frames recorded by on_receive_raw.
"""

# No `from __future__ import annotations` here: c104 checks callback annotations as real types.

import threading
import time
from typing import Callable

import c104

import iec104


class C104Master:
    def __init__(self, port: int, common_addresses: list[int], command_timeout_ms: int = 3000):
        self.client = c104.Client(tick_rate_ms=50, command_timeout_ms=command_timeout_ms)
        self.connection = self.client.add_connection(ip="127.0.0.1", port=port, init=c104.Init.NONE)
        assert self.connection is not None, "c104 refused to add the connection"
        self.stations = {ca: self.connection.add_station(common_address=ca) for ca in common_addresses}
        self._lock = threading.Lock()
        self.frames: list[bytes] = []
        self.sent: list[bytes] = []
        frames, sent, lock = self.frames, self.sent, self._lock

        # c104 insists on exact annotations, so these are plain functions, not lambdas.
        def on_receive_raw(connection: c104.Connection, data: bytes) -> None:
            with lock:
                frames.append(bytes(data))

        def on_send_raw(connection: c104.Connection, data: bytes) -> None:
            with lock:
                sent.append(bytes(data))

        self.connection.on_receive_raw(callable=on_receive_raw)
        self.connection.on_send_raw(callable=on_send_raw)

    def start(self, timeout: float = 5.0):
        """Connects and waits for data transfer (unmuting by hand if c104 forgot STARTDT)."""
        self.client.start()
        self.connection.connect()
        deadline = time.monotonic() + timeout
        unmuted_at = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            state = self.connection.state
            if state == c104.ConnectionState.OPEN:
                return self
            if state == c104.ConnectionState.OPEN_MUTED and time.monotonic() > unmuted_at:
                self.connection.unmute()
                unmuted_at = time.monotonic() + 1.0
            time.sleep(0.05)
        raise AssertionError(f"c104 connection not in data transfer after {timeout} s: {self.connection.state}")

    def stop(self) -> None:
        try:
            self.client.disconnect_all()
        finally:
            self.client.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def mark(self) -> int:
        """The number of frames received so far; pass it to asdus()/wait_for() to look only at later ones."""
        with self._lock:
            return len(self.frames)

    def asdus(self, since: int = 0, skip_init: bool = True) -> list[iec104.ASDU]:
        with self._lock:
            frames = list(self.frames[since:])
        out = []
        for frame in frames:
            asdu = iec104.asdu_of_apdu(frame)
            if asdu is None or (skip_init and asdu.type_id == iec104.M_EI_NA_1):
                continue
            out.append(asdu)
        return out

    def wait_for(self, predicate: Callable[[iec104.ASDU], bool], since: int = 0, timeout: float = 3.0) -> list[iec104.ASDU]:
        """ASDUs received after `since`, up to and including the first matching `predicate`."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.asdus(since)
            for index, asdu in enumerate(got):
                if predicate(asdu):
                    return got[:index + 1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching ASDU within {timeout} s; received {got}")
            time.sleep(0.02)

    def settle(self, since: int, quiet: float = 0.3, timeout: float = 3.0) -> list[iec104.ASDU]:
        """ASDUs after `since` once nothing new has come for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        count = -1
        last_change = time.monotonic()
        while time.monotonic() < deadline:
            now_count = self.mark()
            if now_count != count:
                count, last_change = now_count, time.monotonic()
            elif time.monotonic() - last_change >= quiet:
                break
            time.sleep(0.02)
        return self.asdus(since)
