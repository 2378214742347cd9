#!/bin/sh
# Feeder for test_quality.py: notes its PID (the test kills it), then writes 47:300-302 every 0.2 s.
echo $$ > qfeed.pid
while true; do
    echo '{"op":"set","points":[{"point":"47:300","value":1.5},{"point":"47:301","value":2.5},{"point":"47:302","value":3.5}]}'
    sleep 0.2
done
