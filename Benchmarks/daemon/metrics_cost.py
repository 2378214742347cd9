"""Part `metrics` of Benchmarks/daemon/bench.py: what the metrics endpoint costs the protocol path.

Two daemons from the same binary and configuration, one without [metrics] and one with it, scraped every
--metrics-scrape seconds (Prometheus scrapes every 15-60 s; once a second is a harsh case) while they work. They
take turns run by run, so that a noisy second on this shared machine hits both alike:
  - GI: fastmaster gi at each --sizes, --gi-repeats runs each, median objects/s;
  - events: the feeder at each --metrics-rates through the control socket to a fastmaster, --event-repeats runs
    each: lossless or not, and the daemon's CPU (median run).
The difference to expect is none: the counters are the stations' own integers either way, and a scrape copies
them once on the protocol loop and renders on the endpoint's own thread."""
import os
import statistics
import threading
import urllib.request


class Scraper:
    """Scrapes /metrics every `period` seconds in a thread until stopped; counts successes and failures."""

    def __init__(self, port, period):
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.period = period
        self.ok = 0
        self.failed = 0
        self.bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=5) as reply:
                    self.bytes = len(reply.read())
                self.ok += 1
            except OSError:
                self.failed += 1
            self._stop.wait(self.period)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join(timeout=10)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_pair(bench, n, name):
    """The daemon without and with the endpoint, both loaded with N points."""
    pair = {}
    for variant in ("off", "on"):
        port = free_port()
        metrics_port = free_port() if variant == "on" else 0
        proc, _, control = bench.start_daemon(n, port, f"rtu104d-{name}-metrics-{variant}", tag=f"metrics-{variant}",
                                              metrics_port=metrics_port)
        pair[variant] = {"proc": proc, "port": port, "control": control, "metrics_port": metrics_port, "seq": 1,
                         "label": f"metrics-{variant}"}
    return pair


def stop_pair(bench, pair):
    for d in pair.values():
        d["proc"].terminate()
        try:
            d["proc"].wait(timeout=10)
        except Exception:  # noqa: BLE001 - a daemon that does not stop is killed
            d["proc"].kill()


def scraping(bench, d):
    if d["metrics_port"]:
        return Scraper(d["metrics_port"], bench.args.metrics_scrape)
    return NoScraper()


class NoScraper:
    ok = failed = bytes = 0

    def __enter__(self):
        return self

    def __exit__(self, *_):
        pass


def gi(bench):
    for n in bench.args.sizes:
        pair = start_pair(bench, n, f"gi-{n}")
        rates = {"off": [], "on": []}
        cpu = {"off": [], "on": []}
        scrapes = {"ok": 0, "failed": 0, "bytes": 0}
        try:
            for _ in range(bench.args.gi_repeats):
                for variant, d in pair.items():
                    with scraping(bench, d) as scraper:
                        (line,) = bench.fastmaster(d["port"], "--expect", n, "--timeout", 120, "--server-pid",
                                                   d["proc"].pid, "--label", f"metrics-{variant}", "gi", 1)[-1:]
                    if variant == "on":
                        scrapes["ok"] += scraper.ok
                        scrapes["failed"] += scraper.failed
                        scrapes["bytes"] = scraper.bytes or scrapes["bytes"]
                    bench.record("metrics_gi", f"metrics-{variant}", points=n, **{k: v for k, v in line.items() if k != "label"})
                    if line.get("ok") and line.get("complete"):
                        rates[variant].append(line["objects_per_s"])
                        cpu[variant].append(line.get("server_cpu_pct", float("nan")))
        finally:
            stop_pair(bench, pair)
        off = statistics.median(rates["off"]) if rates["off"] else 0.0
        on = statistics.median(rates["on"]) if rates["on"] else 0.0
        ratio = on / off if off else 0.0
        spread = (min(rates["off"], default=0), max(rates["off"], default=0))
        bench.record("metrics_gi_summary", "rtu104d", points=n, off_objects_per_s=off, on_objects_per_s=on,
                     ratio=round(ratio, 4), runs=len(rates["on"]), scrapes=scrapes)
        bench.summary.setdefault("metrics", {})[f"gi {n}"] = {"off": off, "on": on, "ratio": ratio}
        bench.log(f"  GI N={n:>8}: off {off:>12,.0f} obj/s  on {on:>12,.0f} obj/s  on/off {ratio:.3f}  "
                  f"(off runs {spread[0]:,.0f}..{spread[1]:,.0f}; {scrapes['ok']} scrapes of "
                  f"{scrapes['bytes']:,} bytes, {scrapes['failed']} failed)")


def events(bench):
    pair = start_pair(bench, 1000, "events")
    try:
        for rate in bench.args.metrics_rates:
            runs = {"off": [], "on": []}
            scrapes = {"ok": 0, "failed": 0}
            for _ in range(bench.args.event_repeats):
                for variant, d in pair.items():
                    with scraping(bench, d) as scraper:
                        (line,), feeder = bench.run_rate(d, rate)
                    if variant == "on":
                        scrapes["ok"] += scraper.ok
                        scrapes["failed"] += scraper.failed
                    ok = bench.lossless(line, feeder, rate)
                    runs[variant].append({"line": line, "feeder": feeder, "lossless": ok})
                    bench.record("metrics_events", f"metrics-{variant}", rate=rate, lossless=ok, feeder=feeder,
                                 **{k: v for k, v in line.items() if k != "label"})
            for variant in ("off", "on"):
                entry = bench.median_run(runs[variant])
                bench.log(bench.describe_events(f"metrics {variant}", rate, entry["line"], entry["feeder"],
                                                entry["lossless"], runs[variant]))
                bench.summary.setdefault("metrics", {})[f"events {rate} {variant}"] = {
                    "lossless": sum(r["lossless"] for r in runs[variant]), "runs": len(runs[variant]),
                    "cpu": statistics.median(r["line"].get("server_cpu_pct", float("nan")) for r in runs[variant])}
            bench.log(f"    ({scrapes['ok']} scrapes while on, {scrapes['failed']} failed)")
    finally:
        stop_pair(bench, pair)


def run(bench):
    bench.log(f"\n== 7. Metrics endpoint off and on (same binary; scraped every {bench.args.metrics_scrape:g} s while "
              f"on; the two daemons take turns run by run)")
    gi(bench)
    events(bench)
