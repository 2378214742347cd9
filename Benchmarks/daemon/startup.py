#!/usr/bin/env python3
"""rtu104d start-up and reload with large point tables: time and memory.

    startup.py BINARY [--points 100000,1000000] [--reload 1000000] [--work DIR]

For each N of --points: writes an N-point config with gen_config.py (under --work, default
.build/startup), starts BINARY --config …, and reports the time until the listener accepts, VmRSS once
the control socket exists (the daemon trims freed memory just before it binds that socket) and VmHWM.
For the N of --reload (0: none): starts the daemon on that table, connects as a master (STARTDT), resets
VmHWM (clear_refs 5), rewrites the table (the last tenth of the IOAs replaced by N/10 new ones past N)
and sends SIGHUP. While the daemon reloads, the master reads point 1 (C_RD_NA_1) again and again: the
old image must keep answering; the reload counts as done when the first new IOA answers. Reported: the
reload time (SIGHUP until the new point answers), VmHWM during the reload, VmRSS after it, the longest
wait for a read reply of either point (how long the event loop stalled) and whether every read was answered.
One JSON line per result on stdout; progress on stderr. Every process started here is stopped by its PID.
"""
import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CA = 47


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def memory(pid):
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = round(int(value.split()[0]) / 1024.0, 1)  # MiB
    return fields


def stop(proc):
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def generate(directory, n, port):
    subprocess.run([sys.executable, os.path.join(HERE, "gen_config.py"), directory, str(n), str(port),
                    "--log-level", "notice"], check=True)


def start(binary, directory, port):
    """Starts the daemon on DIR/rtu104d.conf; returns (process, seconds until the port accepts)."""
    for stale in ("run/control.sock", "state/state.json"):
        try:
            os.remove(os.path.join(directory, stale))
        except OSError:
            pass
    log = open(os.path.join(directory, "daemon.log"), "w", encoding="utf-8")
    t0 = time.monotonic()
    proc = subprocess.Popen([binary, "--config", os.path.join(directory, "rtu104d.conf"), "--log-target", "stderr"],
                            stdout=log, stderr=log, cwd=directory)
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the daemon exited with {proc.returncode}; see {log.name}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.002)
    accepting = time.monotonic() - t0
    control = os.path.join(directory, "run", "control.sock")
    while not os.path.exists(control):
        if time.monotonic() - t0 > 120:
            raise RuntimeError("no control socket after 120 s")
        time.sleep(0.002)
    time.sleep(0.2)  # the trim and the "ready" notice follow the bind
    return proc, accepting


def write_table(path, n, first, count, extra_first=None, extra_count=0):
    """gen_config.py's layout (float points with a time tag, one a line), IOAs first… and extra_first…"""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(f'{{"comment": "startup.py reload table for {n} points",\n "points": [\n')
        ioas = list(range(first, first + count))
        if extra_count:
            ioas += range(extra_first, extra_first + extra_count)
        line = '{"ca":%d,"ioa":%%d,"type":"float","time_tag":true}' % CA
        for start_index in range(0, len(ioas), 10000):
            chunk = ",\n".join(line % ioa for ioa in ioas[start_index:start_index + 10000])
            out.write(chunk + (",\n" if start_index + 10000 < len(ioas) else "\n"))
        out.write(" ]\n}\n")
    os.replace(tmp, path)


class Master:
    """Just enough of a controlling station: STARTDT, C_RD_NA_1, S-frame acknowledgements."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.send_seq = 0
        self.recv_seq = 0
        self.buffer = b""
        self.sock.sendall(bytes([0x68, 4, 0x07, 0, 0, 0]))
        while True:
            frame = self.frame()
            if frame[2] == 0x0B:
                return

    def frame(self):
        while True:
            if len(self.buffer) >= 2 and len(self.buffer) >= 2 + self.buffer[1]:
                length = self.buffer[1]
                frame, self.buffer = self.buffer[:2 + length], self.buffer[2 + length:]
                if frame[2] & 1 == 0:  # I-frame: acknowledge at once
                    self.recv_seq = (self.recv_seq + 1) & 0x7FFF
                    self.sock.sendall(bytes([0x68, 4, 0x01, 0]) + struct.pack("<H", self.recv_seq << 1))
                elif frame[2] == 0x43:  # TESTFR act
                    self.sock.sendall(bytes([0x68, 4, 0x83, 0, 0, 0]))
                return frame
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("the daemon closed the connection")
            self.buffer += data

    def read(self, ioa):
        """C_RD_NA_1 for CA:ioa; returns the cause of transmission of the reply (5 request, 47 unknown IOA)."""
        asdu = bytes([102, 1, 5, 0]) + struct.pack("<H", CA) + struct.pack("<I", ioa)[:3]
        control = struct.pack("<HH", self.send_seq << 1, self.recv_seq << 1)
        self.send_seq = (self.send_seq + 1) & 0x7FFF
        self.sock.sendall(bytes([0x68, 4 + len(asdu)]) + control + asdu)
        while True:
            frame = self.frame()
            if frame[2] & 1 or len(frame) < 15:
                continue
            cause = frame[8] & 0x3F
            # the point itself with COT 5, or the request mirrored with COT 47 (unknown IOA)
            if frame[12] | frame[13] << 8 | frame[14] << 16 == ioa and (cause == 5 or frame[6] == 102):
                return cause


def emit(**fields):
    print(json.dumps(fields), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--points", default="100000,1000000")
    parser.add_argument("--reload", type=int, default=1000000)
    parser.add_argument("--work", default=os.path.join(ROOT, ".build", "startup"))
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    sizes = [int(n) for n in args.points.split(",") if n]

    for n in sizes:
        directory, port = os.path.join(args.work, f"n{n}"), free_port()
        generate(directory, n, port)
        proc, accepting = start(binary, directory, port)
        try:
            mem = memory(proc.pid)
            emit(result="startup", points=n, accepting_s=round(accepting, 3), rss_mib=mem["VmRSS"], hwm_mib=mem["VmHWM"])
        finally:
            stop(proc)

    n = args.reload
    if n:
        directory = os.path.join(args.work, f"reload{n}")
        port = free_port()
        table = os.path.join(directory, "points.json")
        generate(directory, n, port)
        proc, _ = start(binary, directory, port)
        try:
            master = Master(port)
            kept = n - n // 10
            new_ioa = n + 1
            if master.read(1) != 5 or master.read(new_ioa) != 47:
                raise RuntimeError("before the reload, point 1 must answer and the new point must be unknown")
            write_table(table, n, 1, kept, new_ioa, n // 10)
            before = memory(proc.pid)
            with open(f"/proc/{proc.pid}/clear_refs", "w") as refs:
                refs.write("5")  # resets VmHWM to the current RSS
            t0 = time.monotonic()
            os.kill(proc.pid, signal.SIGHUP)
            reads, unanswered, longest = 0, 0, 0.0
            while True:
                asked = time.monotonic()
                cause = master.read(1)
                waited = time.monotonic() - asked
                longest = max(longest, waited)
                reads += 1
                if cause != 5:
                    unanswered += 1
                asked = time.monotonic()
                answered = master.read(new_ioa) == 5
                longest = max(longest, time.monotonic() - asked)  # the swap may stall this read, not the other
                if answered:
                    break
                if time.monotonic() - t0 > 120:
                    raise RuntimeError("the new point never answered within 120 s")
            reload_s = time.monotonic() - t0
            time.sleep(0.5)  # the trim follows the swap
            after = memory(proc.pid)
            emit(result="reload", points=n, reload_s=round(reload_s, 3), hwm_mib=after["VmHWM"],
                 rss_before_mib=before["VmRSS"], rss_after_mib=after["VmRSS"], reads_during_reload=reads,
                 reads_not_answered=unanswered, longest_read_wait_s=round(longest, 3))
        finally:
            stop(proc)



if __name__ == "__main__":
    main()
