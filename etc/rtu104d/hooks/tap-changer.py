#!/usr/bin/env python3
"""Example persistent handler: a transformer tap changer (point 47:2201, step, position on 47:1201).

rtu104d starts this program once and keeps it running (restarting it with back-off if it exits).
Each command is one JSON line on stdin with an "id"; the answer is one JSON line on stdout with the
same id, in any order:

    {"id": 7, "ok": true, "updates": [{"point": "47:1201", "value": 6}]}
    {"id": 7, "ok": false, "error": "tap changer at its highest position"}

A command that is deactivated or not answered within its timeout is withdrawn with
{"id": 7, "cancel": true}. A stdout line without an id is a point update at the handler's own
initiative (here: the position at start). Anything on stderr goes to the daemon's log.
"""
import json
import sys

LOWEST, HIGHEST = -8, 16
position = 5  # as in points.json; a real handler reads it from the tap changer


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


send({"point": "47:1201", "value": position})
print("tap changer ready at position %d" % position, file=sys.stderr, flush=True)

for line in sys.stdin:
    try:
        request = json.loads(line)
    except ValueError:
        print("ignored a line that is not JSON", file=sys.stderr, flush=True)
        continue
    if request.get("cancel"):
        # Commands are answered at once here, so there is nothing to stop.
        continue
    if request["select"]:
        send({"id": request["id"], "ok": True})
        continue
    step = 1 if request["value"] == "higher" else -1
    if not LOWEST <= position + step <= HIGHEST:
        send({"id": request["id"], "ok": False,
              "error": "tap changer at its %s position" % ("highest" if step > 0 else "lowest")})
        continue
    position += step
    updates = [{"point": request["feedback"], "value": position}] if request["feedback"] else []
    send({"id": request["id"], "ok": True, "updates": updates})
