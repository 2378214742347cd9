"""Part `journal` of Benchmarks/daemon/bench.py: what the persistent event journal costs the event path.

Three daemons from the same binary and configuration (1,000 float points, one station): event_journal off, on with
event_journal_sync = normal, on with full. The feeder offers each --journal-rates rate through the control socket
to a fastmaster that acknowledges as a master does, --event-repeats runs each, the three taking turns run by run
so that a noisy second on this shared machine hits them alike. Reported per rate and variant: lossless runs, the
rate received, the daemon's CPU (which includes the journal's writer thread); and per variant the highest rate at
which every run was lossless (the journal's ceiling at this resolution).
With the journal on, a `set` is answered once its events are committed: the commit latency, not the protocol
loop, bounds what one producer can push, which is what this part shows."""
import os
import shutil
import statistics

from metrics_cost import free_port, stop_pair

VARIANTS = ("off", "normal", "full")
# With --compare OLD, a fourth daemon: the other binary without the journal, taking its turn beside the rest
# (a side-by-side check that the event path of this build did not get slower).
COMPARED = "off-compare"


def variants(bench):
    return VARIANTS + ((COMPARED,) if bench.args.compare else ())


def start(bench):
    daemons = {}
    for variant in variants(bench):
        tag = f"journal-{variant}"
        # A journal left by an earlier run would be sent first and spoil the sequence check.
        shutil.rmtree(os.path.join(bench.work, f"n1000-{tag}", "state"), ignore_errors=True)
        port = free_port()
        compared = variant == COMPARED
        proc, _, control = bench.start_daemon(1000, port, f"rtu104d-journal-{variant}", tag=tag,
                                              binary=bench.args.compare if compared else None,
                                              event_journal="off" if compared else variant)
        daemons[variant] = {"proc": proc, "port": port, "control": control, "seq": 1, "label": tag}
    return daemons


def run(bench):
    bench.log("\n== 8. Event journal off, on (sync normal), on (sync full): same binary, the three take turns run by run")
    daemons = start(bench)
    ceiling = {variant: 0 for variant in variants(bench)}
    still_lossless = set(variants(bench))
    try:
        for rate in bench.args.journal_rates:
            runs = {variant: [] for variant in variants(bench)}
            for _ in range(bench.args.event_repeats):
                for variant, d in daemons.items():
                    (line,), feeder = bench.run_rate(d, rate)
                    ok = bench.lossless(line, feeder, rate)
                    runs[variant].append({"line": line, "feeder": feeder, "lossless": ok})
                    bench.record("journal_events", d["label"], rate=rate, lossless=ok, feeder=feeder,
                                 **{k: v for k, v in line.items() if k != "label"})
            for variant in variants(bench):
                entry = bench.median_run(runs[variant])
                bench.log(bench.describe_events(f"journal {variant}", rate, entry["line"], entry["feeder"],
                                                entry["lossless"], runs[variant]))
                every = all(r["lossless"] for r in runs[variant])
                if every and variant in still_lossless:
                    ceiling[variant] = rate
                elif not every:
                    still_lossless.discard(variant)
                bench.summary.setdefault("journal", {})[f"events {rate} {variant}"] = {
                    "lossless": sum(r["lossless"] for r in runs[variant]), "runs": len(runs[variant]),
                    "received": statistics.median(r["line"].get("events_per_s", 0) for r in runs[variant]),
                    "cpu": statistics.median(r["line"].get("server_cpu_pct", float("nan")) for r in runs[variant])}
    finally:
        stop_pair(bench, daemons)
    for variant in variants(bench):
        bench.log(f"  => journal {variant}: lossless at every run up to {ceiling[variant]:,}/s of the rates tried")
        bench.record("journal_summary", f"journal-{variant}", ceiling_per_s=ceiling[variant],
                     rates=bench.args.journal_rates, repeats=bench.args.event_repeats)
        bench.summary.setdefault("journal", {})[f"ceiling {variant}"] = {"ceiling": ceiling[variant]}
