#!/usr/bin/env python3
"""A c104 (lib60870-C underneath) outstation with N float points, for the GI comparison.

    c104_server.py PORT N [--ca 47] [--ioa-base 1]

N M_ME_NC_1 points at contiguous IOAs in one common address. Prints "ready" on stdout once the
server listens, then runs until SIGTERM/SIGINT. Loopback only.
"""
import argparse
import signal
import sys
import threading
import time

import c104


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("n", type=int)
    parser.add_argument("--ca", type=int, default=47)
    parser.add_argument("--ioa-base", type=int, default=1)
    args = parser.parse_args()

    started = time.monotonic()
    server = c104.Server(ip="127.0.0.1", port=args.port, tick_rate_ms=100, max_connections=4)
    station = server.add_station(common_address=args.ca)
    for i in range(args.n):
        point = station.add_point(io_address=args.ioa_base + i, type=c104.Type.M_ME_NC_1)
        point.value = float(i) * 0.5
    server.start()
    while not server.is_running:
        time.sleep(0.01)
    print(f"ready points={args.n} load_s={time.monotonic() - started:.3f}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.2):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
