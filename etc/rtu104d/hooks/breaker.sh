#!/bin/sh
# Example spawn handler: a circuit breaker (points 47:2001 single and 47:2101 double).
#
# rtu104d runs this program once per command, directly (no shell string), with the command in
# RTU104_* variables and as one JSON object on stdin. Exit 0 = success (positive ACTCON, then ACTTERM),
# anything else = failure (negative ACTCON). stdout lines that are JSON objects are point updates:
# here the breaker's new position on its status point, sent to the masters as return information (COT 11).
# stderr goes to the daemon's log with the command's station, peer, CA and IOA.
set -eu

if [ "$RTU104_SELECT" = 1 ]; then
    # Select (select-before-operate): check that the breaker may be operated; nothing moves yet.
    if [ -e "${BREAKER_LOCK:-/nonexistent}" ]; then
        echo "breaker $RTU104_POINT is locked out ($BREAKER_LOCK)" >&2
        exit 1
    fi
    exit 0
fi

case "$RTU104_VALUE" in
    on|off) ;;
    *) echo "breaker $RTU104_POINT: unexpected value" >&2; exit 2 ;;
esac

# A real handler would drive an output here (GPIO, Modbus, a PLC); the example takes the travel time.
sleep 0.2
echo "breaker $RTU104_POINT switched $RTU104_VALUE by $RTU104_STATION ($RTU104_PEER)" >&2

# The new position on the status point (a single point takes on/off, a double point on/off too).
if [ -n "$RTU104_FEEDBACK" ]; then
    printf '{"point":"%s","value":"%s"}\n' "$RTU104_FEEDBACK" "$RTU104_VALUE"
fi
