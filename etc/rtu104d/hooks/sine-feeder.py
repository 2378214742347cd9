#!/usr/bin/env python3
"""Example feeder: a feeder voltage that follows a sine wave, one value a second.

rtu104d runs this program for as long as it runs (restarting it with back-off if it exits) and reads
its stdout: each line is a point update in the control socket's "set" form, either one point
{"point": "47:3201", "value": 231.5} or a whole {"op": "set", "points": [...]}. Bad lines are
skipped and logged; stderr goes to the log.
"""
import json
import math
import sys
import time

PERIOD = 60.0  # seconds for one swing

start = time.monotonic()
while True:
    t = time.monotonic() - start
    voltage = 230.0 + 5.0 * math.sin(2 * math.pi * t / PERIOD)
    current = 100.0 + 20.0 * math.sin(2 * math.pi * t / PERIOD + 1.0)
    print(json.dumps({"op": "set", "points": [
        {"point": "47:3201", "value": round(voltage, 2)},
        {"point": "47:3202", "value": round(current, 1)},
    ]}), flush=True)
    time.sleep(1.0)
