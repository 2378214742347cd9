#!/usr/bin/env python3
"""Commands per second through a `spawn` and a `persistent` handler, over real TCP on loopback.

A raw master keeps `--window` single commands (C_SC_NA_1, direct execute) in flight on distinct
command points (commands on one point run one at a time, by design), and counts the commands
confirmed with ACTTERM per second. The spawn handler is /bin/true (process start-up is the cost);
the persistent handler is a minimal Python coprocess that answers every request at once.
Prints one JSON line per handler mode. Every daemon it starts is stopped by its PID.
"""
import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PERSISTENT = r'''#!/usr/bin/env python3
import json, sys
for line in sys.stdin:
    request = json.loads(line)
    if "cancel" in request:
        continue
    sys.stdout.write(json.dumps({"id": request["id"], "ok": True}) + "\n")
    sys.stdout.flush()
'''


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(directory, mode, points, port):
    handler = "/bin/true" if mode == "spawn" else os.path.join(directory, "persistent.py")
    if mode == "persistent":
        with open(handler, "w") as script:
            script.write(PERSISTENT)
        os.chmod(handler, 0o755)
    table = {"points": [{"ca": 47, "ioa": 1, "type": "single"}] + [
        {"ca": 47, "ioa": 1000 + i, "command": "single", "sbo": "no", "handler": "h"} for i in range(points)]}
    with open(os.path.join(directory, "points.json"), "w") as out:
        json.dump(table, out)
    with open(os.path.join(directory, "rtu104d.conf"), "w") as out:
        out.write(f"""[daemon]
point_tables = points.json
state_directory = {directory}/state
runtime_directory = {directory}/run
log_level = warning
max_handler_processes = 64

[handler h]
exec = {handler}
mode = {mode}
timeout = 10s

[listener main]
bind = 127.0.0.1:{port}

[station bench]
allow = any
common_addresses = 47
""")


def command_asdu(ioa):
    return bytes([45, 1, 6, 0, 47, 0]) + struct.pack("<I", ioa)[:3] + bytes([0x01])


class Master:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.send_seq = 0
        self.recv_seq = 0

    def send_i(self, asdu):
        self.sock.sendall(bytes([0x68, 4 + len(asdu)]) + struct.pack("<HH", self.send_seq << 1, self.recv_seq << 1) + asdu)
        self.send_seq = (self.send_seq + 1) & 0x7FFF

    def frames(self):
        self.buffer += self.sock.recv(65536)
        out = []
        while len(self.buffer) >= 2 and len(self.buffer) >= self.buffer[1] + 2:
            length = self.buffer[1] + 2
            out.append(self.buffer[:length])
            self.buffer = self.buffer[length:]
        return out

    def start(self):
        self.sock.sendall(bytes.fromhex("680407000000"))
        while not any(frame[2] == 0x0B for frame in self.frames()):
            pass


def run(mode, binary, seconds, window):
    with tempfile.TemporaryDirectory(prefix="rtu104d-commands-") as directory:
        port = free_port()
        write_config(directory, mode, window, port)
        daemon = subprocess.Popen([binary, "--config", os.path.join(directory, "rtu104d.conf")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    master = Master(port)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            master.start()
            for ioa in range(window):
                master.send_i(command_asdu(1000 + ioa))
            done = negative = 0
            latencies = []
            sent_at = {1000 + ioa: time.monotonic() for ioa in range(window)}
            started = time.monotonic()
            unacknowledged = 0
            while time.monotonic() - started < seconds:
                for frame in master.frames():
                    if frame[2] & 1:
                        continue
                    master.recv_seq = (master.recv_seq + 1) & 0x7FFF
                    unacknowledged += 1
                    asdu = frame[6:]
                    if asdu[0] != 45:
                        continue
                    ioa = asdu[6] | asdu[7] << 8 | asdu[8] << 16
                    cause = asdu[2] & 0x3F
                    if asdu[2] & 0x40:
                        negative += 1
                    if cause == 10:  # ACTTERM: the command finished; send the next on the same point
                        done += 1
                        latencies.append(time.monotonic() - sent_at[ioa])
                        sent_at[ioa] = time.monotonic()
                        master.send_i(command_asdu(ioa))
                if unacknowledged >= 8:
                    master.sock.sendall(bytes([0x68, 4, 1, 0]) + struct.pack("<H", master.recv_seq << 1))
                    unacknowledged = 0
            elapsed = time.monotonic() - started
            latencies.sort()
            pick = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2) if latencies else None
            return {"metric": "commands", "handler": mode, "in_flight": window, "seconds": round(elapsed, 2),
                    "commands": done, "commands_per_s": round(done / elapsed, 1), "negative": negative,
                    "latency_ms_p50": pick(0.5), "latency_ms_p99": pick(0.99)}
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(10)
            except subprocess.TimeoutExpired:
                daemon.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "rtu104d"))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--modes", default="spawn,persistent")
    args = parser.parse_args()
    for mode in args.modes.split(","):
        print(json.dumps(run(mode, args.binary, args.seconds, args.in_flight)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
