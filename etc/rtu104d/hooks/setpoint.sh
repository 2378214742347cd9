#!/bin/sh
# Example spawn handler: a set-point writer (point 47:2501, float, read back on 47:3204).
#
# The value arrives as text in RTU104_VALUE (and as a JSON number on stdin); a float that is not finite
# comes as nan, inf or -inf and is refused here. The set-point is written to a file that another
# program (a controller, a PLC gateway) would pick up, then reported back on the readback point.
set -eu

[ "$RTU104_SELECT" = 1 ] && exit 0

case "$RTU104_VALUE" in
    nan|inf|-inf) echo "set-point $RTU104_POINT: refusing $RTU104_VALUE" >&2; exit 3 ;;
esac

dir="${SETPOINT_DIR:-.}"
mkdir -p "$dir"
file="$dir/setpoint-$RTU104_CA-$RTU104_IOA"
printf '%s\n' "$RTU104_VALUE" > "$file.new"
mv "$file.new" "$file"

if [ -n "$RTU104_FEEDBACK" ]; then
    printf '{"point":"%s","value":%s}\n' "$RTU104_FEEDBACK" "$RTU104_VALUE"
fi
