#!/usr/bin/env python3
"""Writes an rtu104d benchmark configuration: N float points and one listener on 127.0.0.1.

    gen_config.py DIR N PORT [--ca 47] [--event-buffer 10000] [--log-level info] [--stations S]
    gen_config.py DIR N PORT --masters M [--ca 1]

DIR/points.json   N M_ME_NC_1 points, CA 47, contiguous IOAs 1..N, value 0 (the default), time_tag true
                  (so spontaneous events go out as M_ME_TF_1 with a CP56 tag)
DIR/rtu104d.conf  [daemon] with state/runtime under DIR, one listener, one station allow = any;
                  with --stations S > 1, S stations on that listener, station I (1..S) with
                  allow = 127.0.0.I, all serving the same CA (fan-out: a master per station, each
                  connecting from its own loopback address, e.g. fastmaster --bind-src 127.0.0.I)
With --masters M (the `masters` part): M stations on the listener, station I (0..M-1) with its own
                  common address ca+I, its own N points (IOA 1..N) and allow = the one address
                  masters_source(I) = 127.1.(I div 250).(I mod 250 + 1); max_connections = M + 16.
The points are the same kind as the lib60870-C peer's (CA 47, M_ME_NC_1 in a GI: a float point's GI
reply carries no time tag), so GI figures compare like with like.
The 1M-point table is ~50 MB: generate it under .build, never commit it. Skips rewriting a
points.json that already has N points (the header line records N).
"""
import argparse
import os
import sys


def masters_source(index):
    """The loopback source address of master `index` (0-based) in the `masters` part; bench.py and
    manymasters.c use the same mapping."""
    return f"127.1.{index // 250}.{index % 250 + 1}"


def write_points(path, header, records):
    """Writes a compact JSON point table (records: an iterator of (ca, ioa)), unless `path` already
    starts with `header`: a 1M-point table takes seconds to write."""
    try:
        with open(path, encoding="utf-8") as existing:
            if existing.readline() == header:
                return
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(header)
        out.write(' "points": [\n')
        chunk, first = [], True
        for ca, ioa in records:
            chunk.append('{"ca":%d,"ioa":%d,"type":"float","time_tag":true}' % (ca, ioa))
            if len(chunk) == 10000:
                out.write(("" if first else ",\n") + ",\n".join(chunk))
                chunk, first = [], False
        if chunk:
            out.write(("" if first else ",\n") + ",\n".join(chunk))
        out.write("\n ]\n}\n")
    os.replace(tmp, path)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("n", type=int)
    parser.add_argument("port", type=int)
    parser.add_argument("--ca", type=int, default=None, help="common address (with --masters: the first; default 47, "
                        "with --masters 1)")
    parser.add_argument("--event-buffer", type=int, default=10000)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--stations", type=int, default=1,
                        help="stations on the listener; more than 1: station I allows 127.0.0.I only")
    parser.add_argument("--masters", type=int, default=0,
                        help="M stations, each with its own CA, N points and one allowed address 127.1.x.y")
    parser.add_argument("--metrics-port", type=int, default=0, help="serve [metrics] on 127.0.0.1:PORT (0: no endpoint)")
    parser.add_argument("--event-journal", choices=("off", "normal", "full"), default="off",
                        help="event_journal = on for every station, with event_journal_sync = this (default off)")
    args = parser.parse_args()
    if args.ca is None:
        args.ca = 1 if args.masters else 47
    if args.masters and not (1 <= args.masters <= 62500 and args.ca + args.masters - 1 <= 65534):
        sys.exit("--masters must be 1…62500 and the CAs stay below 65535")
    if not 1 <= args.n <= 16_777_215:
        sys.exit("N must be 1…16777215")
    if not 1 <= args.stations <= 254:
        sys.exit("--stations must be 1…254 (one loopback address 127.0.0.I each)")

    os.makedirs(args.dir, exist_ok=True)
    points = os.path.join(args.dir, "points.json")
    if args.masters:
        header = (f'{{"comment": "rtu104d benchmark: {args.masters} stations, CA {args.ca}..{args.ca + args.masters - 1}, '
                  f'{args.n} float points each, IOA 1..{args.n}, compact v2",\n')
        write_points(points, header, ((args.ca + i, ioa) for i in range(args.masters) for ioa in range(1, args.n + 1)))
    else:
        header = f'{{"comment": "rtu104d benchmark: {args.n} float points, CA {args.ca}, IOA 1..{args.n}, compact v2",\n'
        write_points(points, header, ((args.ca, ioa) for ioa in range(1, args.n + 1)))

    if args.masters:
        stations = [(f"master{i}", masters_source(i), args.ca + i) for i in range(args.masters)]
    elif args.stations == 1:
        stations = [("bench", "any", args.ca)]
    else:
        stations = [(f"bench{i}", f"127.0.0.{i}", args.ca) for i in range(1, args.stations + 1)]
    # Only when asked: a binary from before the journal (--compare OLD) refuses its keys.
    journal_sync = f"event_journal_sync = {args.event_journal}\n" if args.event_journal != "off" else ""
    with open(os.path.join(args.dir, "rtu104d.conf"), "w", encoding="utf-8") as conf:
        conf.write(f"""; generated by Benchmarks/daemon/gen_config.py: {args.n} float points, {len(stations)} station(s)
[daemon]
point_tables = points.json
state_directory = state
runtime_directory = run
log_level = {args.log_level}
{journal_sync}
[listener bench]
bind = 127.0.0.1:{args.port}
max_connections = {len(stations) + 16 if args.masters else 32}
""")
        if args.metrics_port:
            conf.write(f"""
[metrics]
listen = 127.0.0.1:{args.metrics_port}
""")
        for name, allow, ca in stations:
            conf.write(f"""
[station {name}]
listener = bench
allow = {allow}
common_addresses = {ca}
k = 12
w = 8
event_buffer = {args.event_buffer}
event_overflow = drop-oldest
time_tags = per-point
""")
            if args.event_journal != "off":
                conf.write("event_journal = on\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
