#!/usr/bin/env python3
"""rtu104d daemon benchmarks on loopback, side by side with the physical limit and c104.

Run through Benchmarks/daemon/run (which builds everything first). Parts (--parts, default all):
  1. GI: objects/s between ACTCON and ACTTERM for N = 3k, 10k, 100k, 1M float points, fastmaster
     `gi 1 --expect N` alternating between rtu104d and limitserver (median of the repeats), plus the
     c104 server (lib60870-C) at 3k and 10k (where its GI is known to stall). rtu104d's load time and
     RSS for each N.
  2. events: feeder -> control socket -> rtu104d -> fastmaster `events`: the ceiling, the highest
     offered rate that is lossless, by a search (10k, 50k, 100k/s, then 150k…2M/s while lossless)
     and bisection to --event-step (5k/s). With --compare PATH the same search for a second binary.
     limitserver's generator at the key rates.
     overload: runs at 2x and 4x the ceiling. The daemon holds the feeder back instead of dropping:
     expected >= 90 % of the ceiling received and no sequence value missing (met / NOT met).
     fanout: --masters (4) stations on one listener, station I allowing 127.0.0.I, all on the same
     points; a master per station (fastmaster --bind-src), one feeder; the lossless rate per master.
  3. Connect + STARTDT: fastmaster `connect 1000` against rtu104d and limitserver.
Every figure is appended as a JSON line to the results file; a table is printed at the end.
Every process started here (servers, masters, feeders) is stopped by its PID at the end, on error and on
SIGINT/SIGTERM.
"""
import argparse
import datetime
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

started = []  # Popen objects of every process we started

# rates tried above 100k/s while every rate is lossless (the bisection then narrows the ceiling down)
LADDER = (150000, 200000, 300000, 400000, 600000, 800000, 1000000, 1200000, 1600000, 2000000)


def free_port():
    """A loopback TCP port that is free now (other jobs on this machine run servers too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(proc, grace=5.0):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def stop_all():
    for proc in started:
        stop(proc)


def on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = os.path.join(ROOT, ".build", "bench")
        self.bin = os.path.join(self.work, "bin")
        self.daemon = args.binary
        # the compared binary's label: its file name, unless that is rtu104d too
        name = os.path.basename(args.compare or "")
        self.compare_label = name if name and name != "rtu104d" else "compare"
        self.python = os.path.join(ROOT, ".build", "bench-venv", "bin", "python")
        self.results_path = args.results
        self.run_id = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.summary = {"gi": {}, "c104": {}, "events": {}, "ceiling": {}, "overload": {}, "fanout": {"tried": {}},
                        "connect": {}, "daemon": {}}
        self.logs = os.path.join(self.work, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.machine = {"cores": os.cpu_count(), "kernel": platform.release(), "load_at_start": os.getloadavg()[0]}

    # ------------------------------------------------------------------ plumbing
    def record(self, section, server, **fields):
        if "run" in fields:  # fastmaster's GI repeat number; "run" names this run of the script
            fields["repeat"] = fields.pop("run")
        line = {"run": self.run_id, "section": section, "server": server, **fields}
        with open(self.results_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line, sort_keys=True) + "\n")
        return line

    def log(self, text):
        print(text, flush=True)

    def fastmaster(self, port, *args, timeout=300):
        cmd = [os.path.join(self.bin, "fastmaster"), "--port", str(port), *map(str, args)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        lines = [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]
        if not lines:
            raise RuntimeError(f"fastmaster printed nothing: {' '.join(cmd)}\n{done.stderr}")
        return lines

    def start(self, cmd, name, ready=None, port=None, timeout=120.0):
        """Starts a server; waits for a `ready` prefix on stdout or for `port` to accept.
        Returns (proc, seconds until ready)."""
        log = open(os.path.join(self.logs, name + ".log"), "w", encoding="utf-8")
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if ready else log, stderr=log, text=True,
                                cwd=ROOT)
        started.append(proc)
        if ready:
            line = proc.stdout.readline()
            if not line.startswith(ready):
                stop(proc)
                raise RuntimeError(f"{name} did not start: {line!r} (log {log.name})")
        if port:
            deadline = t0 + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode} (log {log.name})")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        stop(proc)
                        raise RuntimeError(f"{name}: port {port} not open after {timeout} s")
                    time.sleep(0.005)
        return proc, time.monotonic() - t0

    def start_daemon(self, n, port, name, event_buffer=10000, binary=None, stations=1, tag="rtu104d"):
        # one folder per binary and station count: each daemon keeps its own state file
        directory = os.path.join(self.work, f"n{n}" + ("" if tag == "rtu104d" else f"-{tag}") +
                                 ("" if stations == 1 else f"-{stations}st"))
        subprocess.run([sys.executable, os.path.join(HERE, "gen_config.py"), directory, str(n), str(port),
                        "--event-buffer", str(event_buffer), "--stations", str(stations)], check=True)
        proc, load_s = self.start([binary or self.daemon, "--config", os.path.join(directory, "rtu104d.conf")], name,
                                  port=port, timeout=300)
        # the control socket is bound after the listener; wait for it as well
        control = os.path.join(directory, "run", "control.sock")
        deadline = time.monotonic() + 30
        while not os.path.exists(control) and time.monotonic() < deadline:
            time.sleep(0.01)
        return proc, load_s, control

    @staticmethod
    def memory(pid):
        fields = {}
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as status:
                for line in status:
                    key, _, value = line.partition(":")
                    if key in ("VmRSS", "VmHWM"):
                        fields[key] = int(value.split()[0]) / 1024.0  # MiB
        except OSError:
            pass
        return fields

    # ------------------------------------------------------------------ 1. GI
    def gi(self):
        self.log("\n== 1. General interrogation (fastmaster gi, new connection per run, k=12 w=8)")
        sizes = self.args.sizes
        repeats = {3000: 9, 10000: 9, 100000: 7, 1000000: 5}
        for index, n in enumerate(sizes):
            r = repeats.get(n, 5)
            port_d, port_l = free_port(), free_port()
            limit, _ = self.start([os.path.join(self.bin, "limitserver"), str(port_l), str(n)],
                                  f"limitserver-gi-{n}", ready="READY")
            daemon, load_s, _ = self.start_daemon(n, port_d, f"rtu104d-gi-{n}")
            mem = self.memory(daemon.pid)
            self.record("load", "rtu104d", points=n, load_s=round(load_s, 3), rss_mib=round(mem.get("VmRSS", 0), 1),
                        rss_peak_during_load_mib=round(mem.get("VmHWM", 0), 1))
            self.summary["daemon"][n] = {"load_s": load_s, "rss_loaded": mem.get("VmRSS", 0),
                                         "rss_load_peak": mem.get("VmHWM", 0)}
            figures = {"rtu104d": [], "limitserver": []}
            cpu = {"rtu104d": [], "limitserver": []}
            whole = {"rtu104d": [], "limitserver": []}  # N / (request -> ACTTERM)
            failures = {"rtu104d": 0, "limitserver": 0}
            for run in range(r):
                for server, port, pid in (("rtu104d", port_d, daemon.pid), ("limitserver", port_l, limit.pid)):
                    (line,) = self.fastmaster(port, "--expect", n, "--timeout", 120, "--server-pid", pid,
                                              "--label", server, "gi", 1)[-1:]
                    self.record("gi", server, points=n, **{k: v for k, v in line.items() if k != "label"})
                    if line.get("ok") and line.get("complete"):
                        figures[server].append(line["objects_per_s"])
                        whole[server].append(n / line["request_to_actterm_s"])
                        cpu[server].append(line.get("server_cpu_pct", float("nan")))
                    else:
                        failures[server] += 1
            mem = self.memory(daemon.pid)
            self.summary["daemon"][n]["rss_peak"] = mem.get("VmHWM", 0)
            stop(daemon)
            stop(limit)
            row = {}
            for server in figures:
                med = statistics.median(figures[server]) if figures[server] else 0.0
                row[server] = {"median": med, "runs": len(figures[server]), "failures": failures[server],
                               "cpu": statistics.median(cpu[server]) if cpu[server] else float("nan"),
                               "whole": statistics.median(whole[server]) if whole[server] else 0.0,
                               "min": min(figures[server], default=0.0), "max": max(figures[server], default=0.0)}
            ratio = row["rtu104d"]["median"] / row["limitserver"]["median"] if row["limitserver"]["median"] else 0.0
            row["ratio"] = ratio
            self.summary["gi"][n] = row
            self.record("gi_summary", "rtu104d", points=n, median_objects_per_s=row["rtu104d"]["median"],
                        limit_median_objects_per_s=row["limitserver"]["median"], ratio=round(ratio, 4),
                        median_request_to_actterm_objects_per_s=row["rtu104d"]["whole"],
                        limit_median_request_to_actterm_objects_per_s=row["limitserver"]["whole"],
                        rtu104d_server_cpu_pct=row["rtu104d"]["cpu"], limit_server_cpu_pct=row["limitserver"]["cpu"],
                        load_s=round(load_s, 3), rss_peak_mib=round(mem.get("VmHWM", 0), 1))
            self.log(f"  N={n:>8}: rtu104d {row['rtu104d']['median']:>13,.0f} obj/s  limitserver "
                     f"{row['limitserver']['median']:>13,.0f} obj/s  ratio {ratio:.3f}  "
                     f"(load {load_s:.2f} s, RSS {mem.get('VmHWM', 0):.0f} MiB peak)")

    def c104(self):
        self.log("\n== 1b. c104 2.2.1 server (lib60870-C) GI")
        for index, (n, r, stall, limit_s) in enumerate(((3000, 5, 5, 60), (10000, 1, 5, 30))):
            port = free_port()
            try:
                proc, load_s = self.start([self.python, os.path.join(HERE, "c104_server.py"), str(port), str(n)],
                                          f"c104-gi-{n}", ready="ready", timeout=120)
            except RuntimeError as error:
                self.log(f"  N={n}: c104 server did not start: {error}")
                self.summary["c104"][n] = {"error": str(error)}
                continue
            rates, outcome = [], []
            for run in range(r):
                try:
                    lines = self.fastmaster(port, "--expect", n, "--stall", stall, "--timeout", limit_s,
                                            "--server-pid", proc.pid, "--label", "c104", "gi", 1,
                                            timeout=limit_s + 30)
                except subprocess.TimeoutExpired:
                    lines = [{"ok": False, "error": "fastmaster timed out"}]
                line = lines[-1]
                self.record("gi", "c104", points=n, **{k: v for k, v in line.items() if k != "label"})
                outcome.append(line)
                if line.get("ok") and line.get("complete"):
                    rates.append(line["objects_per_s"])
            stop(proc)
            received = max((o.get("objects", 0) for o in outcome), default=0)
            stalled = not rates
            problem = None
            for o in outcome:
                if o.get("ok") and not o.get("complete"):
                    problem = f"ACTTERM after {o.get('objects', 0)} of {n} objects: the rest silently dropped"
                elif not o.get("ok"):
                    problem = f"{o.get('error', 'failed')} after {o.get('objects', 0)} of {n} objects"
            entry = {"median": statistics.median(rates) if rates else 0.0, "runs": len(rates), "tries": r,
                     "stalled": stalled, "objects_received": received, "load_s": load_s, "error": problem}
            self.summary["c104"][n] = entry
            self.record("c104_summary", "c104", points=n, median_objects_per_s=entry["median"], stalled=stalled,
                        objects_received=received, error=entry["error"])
            if stalled:
                self.log(f"  N={n:>8}: c104 GI incomplete: {entry['error']}")
            else:
                self.log(f"  N={n:>8}: c104 {entry['median']:>13,.0f} obj/s ({len(rates)}/{r} runs complete)")

    # ------------------------------------------------------------------ 2. events
    def events_run(self, server, port, pid, rate, seconds, control=None, seq_start=1, perf=None, sources=(None,)):
        """One run: a fastmaster `events` per source address (None: the default source) and, with a control
        socket, the feeder. Returns ([fastmaster line per master], feeder line or None)."""
        warmup = 1.0
        masters = []
        for source in sources:
            cmd = [os.path.join(self.bin, "fastmaster"), "--port", str(port), "--rate", str(rate),
                   "--warmup", str(warmup), "--server-pid", str(pid), "--label", server]
            if source:
                cmd += ["--bind-src", source]
            masters.append(subprocess.Popen(cmd + ["events", str(seconds)], stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True))
            started.append(masters[-1])
        feeder_line = None
        perf_proc = None
        if control:
            time.sleep(0.1)  # connect + STARTDT first
            # --deadline: sending stops after the run even when the daemon held the feeder back (an overload
            # run lasts as long as a lossless one); --mark: sent and backlog at the end of the masters' window
            # (the masters start 0.1 s earlier and count for `seconds` after `warmup`), so what the feeder
            # sends once the masters have left and nothing holds it back does not count as achieved
            feeder = subprocess.Popen([os.path.join(self.bin, "feeder"), "--socket", control, "--rate", str(rate),
                                       "--seconds", str(seconds + warmup + 0.3), "--points", "1000", "--tick-us", "200",
                                       "--seq-start", str(seq_start), "--deadline",
                                       "--mark", f"{warmup + seconds - 0.1:.3f}"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            started.append(feeder)
            if perf:
                time.sleep(warmup)
                perf_proc = subprocess.Popen(["perf", "record", "-g", "-F", "999", "-p", str(pid), "-o", perf,
                                              "--", "sleep", str(max(1.0, seconds - 1))],
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                started.append(perf_proc)
            out, err = feeder.communicate(timeout=seconds + 60)
            feeder_lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
            feeder_line = feeder_lines[-1] if feeder_lines else {"error": err.strip()}
        lines = []
        for fm in masters:
            out, err = fm.communicate(timeout=seconds + 60)
            parsed = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
            lines.append(parsed[-1] if parsed else {"ok": False, "error": err.strip()})
        if perf_proc:
            perf_proc.wait(timeout=60)
        return lines, feeder_line

    @staticmethod
    def perf_report(data, out_path):
        """Writes the top symbols (self time, then with children) of a perf recording, demangled."""
        with open(out_path, "w", encoding="utf-8") as out:
            for children in ("--no-children", "--children"):
                report = subprocess.run(["perf", "report", "-i", data, children, "--stdio", "--sort", "symbol",
                                         "-g", "none"], capture_output=True, text=True, timeout=300).stdout
                rows = [l for l in report.splitlines() if l.strip()[:1].isdigit()][:50]
                text = "\n".join(rows)
                try:
                    text = subprocess.run(["swift", "demangle", "--simplified"], input=text, capture_output=True,
                                          text=True, timeout=60).stdout
                except OSError:
                    pass
                out.write(f"== perf report {children}\n{text}\n\n")

    @staticmethod
    def lossless(line, feeder, rate):
        """Lossless at `rate`: sequence loss <= 0.01 %, >= 98 % of the offered rate received, and (with the
        feeder) >= 99 % of the offered rate achieved until the end of the window, no error reply."""
        if not line.get("ok"):
            return False
        if line.get("loss_seq_pct", 100.0) > 0.01:
            return False
        if line.get("events_per_s", 0) < 0.98 * rate:
            return False
        if feeder is not None and (feeder.get("replies_error", 1) or Bench.achieved(feeder) < 0.99 * rate):
            return False
        return True

    @staticmethod
    def why_not(line, feeder, rate):
        """Why a run is not lossless, in a few words ("" when it is)."""
        reasons = []
        if not line.get("ok"):
            reasons.append(f"master: {line.get('error', 'failed')}")
        if line.get("loss_seq_pct", 100.0) > 0.01:
            reasons.append("sequence loss")
        if line.get("events_per_s", 0) < 0.98 * rate:
            reasons.append("received < 98 %")
        if feeder is not None:
            if feeder.get("replies_error", 1):
                reasons.append(f"{feeder.get('replies_error', '?')} error replies")
            if Bench.achieved(feeder) < 0.99 * rate:
                reasons.append("feeder held back < 99 %")
        return ", ".join(reasons)

    @staticmethod
    def achieved(feeder):
        """Points/s the feeder got out until the end of the masters' window (its whole run if it has no mark)."""
        if not feeder:
            return 0.0
        return feeder.get("achieved_at_mark_per_s", feeder.get("achieved_per_s", 0.0))

    @staticmethod
    def gaps(line):
        """(sequence values missing in the window, values that came backwards); None without sequence values."""
        if "seq_first" not in line:
            return None
        span = line["seq_last"] - line["seq_first"] + 1
        return max(0, span - line.get("events", 0)), line.get("seq_backwards", 0)

    # a daemon for the events parts: its port, control socket and the next free sequence value
    def events_daemon(self, label, binary, stations=1):
        port = free_port()
        proc, _, control = self.start_daemon(1000, port, f"{label}-events" + (f"-{stations}st" if stations > 1 else ""),
                                             binary=binary, stations=stations, tag=label)
        return {"proc": proc, "port": port, "control": control, "seq": 1, "label": label, "binary": binary}

    def run_rate(self, d, rate, sources=(None,)):
        seconds = self.args.event_seconds
        if d["seq"] + rate * (seconds + 2) >= 16_000_000:  # sequence values stay exact in a float
            d["seq"] = 1
        lines, feeder = self.events_run(d["label"], d["port"], d["proc"].pid, rate, seconds, control=d["control"],
                                        seq_start=d["seq"], sources=sources)
        d["seq"] += int(feeder.get("sent", rate * (seconds + 2))) + 1
        if feeder.get("seq_cap_reached"):
            self.log(f"  warning: the feeder ran out of sequence values (2^24) at {rate:,}/s: shorten --event-seconds")
        return lines, feeder

    def search(self, trial, tried, first, ladder):
        """Runs `first`, then `ladder` while every rate is lossless, then bisects between the highest lossless
        and the lowest lossy rate until they are --event-step apart (at most --refine steps). `trial(rate)`
        fills tried[rate] with an entry that has "lossless". Returns (ceiling, lowest lossy rate or None)."""
        step = self.args.event_step
        for rate in first:
            trial(rate)
        if all(e["lossless"] for e in tried.values()):
            for rate in ladder:
                if not trial(rate):
                    break

        def bounds():
            lossy = [r for r, e in tried.items() if not e["lossless"]]
            high = min(lossy) if lossy else None
            low = max([r for r, e in tried.items() if e["lossless"] and (high is None or r < high)], default=0)
            return low, high

        for _ in range(self.args.refine):
            low, high = bounds()
            if high is None or high - low <= step:
                break
            middle = int(round((low + high) / 2 / step) * step)
            if middle <= low or middle >= high:
                break
            trial(middle)
        return bounds()

    def ceiling_text(self, low, high):
        if high is None:
            return f">= {low:,}/s (lossless at every rate tried)"
        text = f"{low:,}/s (lowest lossy rate tried {high:,}/s"
        if high - low > self.args.event_step:
            text += f"; resolution {high - low:,}/s, raise --refine for {self.args.event_step:,}/s"
        return text + ")"

    def events_ceiling(self, d):
        """Part `events`: the highest lossless offered rate for daemon d, by search and bisection."""
        label, repeats = d["label"], self.args.event_repeats
        tried = self.summary["events"].setdefault(label, {})

        def trial(rate):
            runs = []
            for attempt in range(repeats):
                (line,), feeder = self.run_rate(d, rate)
                ok = self.lossless(line, feeder, rate)
                runs.append({"line": line, "feeder": feeder, "lossless": ok})
                self.record("events", label, binary=d["binary"], rate=rate, attempt=attempt + 1, lossless=ok,
                            feeder=feeder, **{k: v for k, v in line.items() if k != "label"})
            entry = self.median_run(runs)
            tried[rate] = entry
            self.log(self.describe_events(label, rate, entry["line"], entry["feeder"], entry["lossless"], runs))
            return entry["lossless"]

        low, high = self.search(trial, tried, (10000, 50000, 100000), LADDER)
        self.summary["ceiling"][label] = {"ceiling": low, "lowest_lossy": high, "binary": d["binary"]}
        self.record("events_summary", label, binary=d["binary"], ceiling_per_s=low, max_lossless_per_s=low,
                    lowest_lossy_per_s=high, step_per_s=self.args.event_step, repeats=repeats,
                    seconds=self.args.event_seconds)
        self.log(f"  => ceiling {label}: {self.ceiling_text(low, high)}")
        return low

    def overload(self, d, ceiling, rates):
        """Part `overload`: runs at the given offered rates (2x and 4x the ceiling). The expectation under
        back-pressure: the masters get >= 90 % of the ceiling and not one sequence value is missing; the feeder
        falls behind instead. Latency counts from the time an update was due, so it includes the time it
        waited in the feeder: reported, not judged."""
        label, repeats = d["label"], self.args.event_repeats
        results = self.summary["overload"].setdefault(label, {})
        for factor, rate in rates:
            runs = []
            for attempt in range(repeats):
                (line,), feeder = self.run_rate(d, rate)
                gaps = self.gaps(line)
                runs.append({"line": line, "feeder": feeder, "gaps": gaps})
                self.record("overload", label, binary=d["binary"], factor=factor, ceiling_per_s=ceiling, rate=rate,
                            attempt=attempt + 1, feeder=feeder, seq_missing=gaps[0] if gaps else None,
                            **{k: v for k, v in line.items() if k != "label"})
            ordered = sorted(runs, key=lambda r: r["line"].get("events_per_s", 0.0))
            entry = dict(ordered[(len(ordered) - 1) // 2])  # the median run by events received
            received = entry["line"].get("events_per_s", 0.0)
            no_gaps = all(r["line"].get("ok") and r["gaps"] is not None and r["gaps"] == (0, 0) for r in runs)
            enough = ceiling > 0 and received >= 0.9 * ceiling
            entry.update(factor=factor, rate=rate, ceiling=ceiling, no_gaps=no_gaps, enough=enough,
                         met=no_gaps and enough, runs=len(runs),
                         missing=sum(r["gaps"][0] for r in runs if r["gaps"]),
                         backwards=sum(r["gaps"][1] for r in runs if r["gaps"]),
                         errors=sum((r["feeder"] or {}).get("replies_error", 0) for r in runs))
            results[rate] = entry
            feeder = entry["feeder"] or {}
            self.record("overload_summary", label, binary=d["binary"], factor=factor, rate=rate, ceiling_per_s=ceiling,
                        received_per_s=received, received_of_ceiling=round(received / ceiling, 4) if ceiling else None,
                        loss_seq_pct=entry["line"].get("loss_seq_pct"), seq_missing_all_runs=entry["missing"],
                        seq_backwards_all_runs=entry["backwards"], feeder_achieved_per_s=self.achieved(feeder),
                        feeder_behind_s=feeder.get("behind_at_mark_s"), feeder_max_backlog_points=feeder.get("max_backlog_points"),
                        feeder_reply_errors_all_runs=entry["errors"], latency_ms_p50=entry["line"].get("latency_ms_p50"),
                        latency_ms_p99=entry["line"].get("latency_ms_p99"), server_cpu_pct=entry["line"].get("server_cpu_pct"),
                        delivered_ok=enough, no_gaps=no_gaps, met=entry["met"], runs=len(runs))
            self.log(self.describe_overload(label, entry))

    def describe_overload(self, label, e):
        line, feeder = e["line"], e["feeder"] or {}
        received = line.get("events_per_s", 0.0)
        share = received / e["ceiling"] if e["ceiling"] else float("nan")
        return (f"  {label:<11} {e['factor']}x ceiling, offered {e['rate']:>7,}/s: received {received:>9,.0f}/s "
                f"({share:.0%} of the ceiling) loss {line.get('loss_seq_pct', float('nan')):.2f}% "
                f"(missing {e['missing']}, backwards {e['backwards']} over {e['runs']} runs)  feeder "
                f"{self.achieved(feeder):,.0f}/s, {feeder.get('behind_at_mark_s', float('nan')):.1f} s behind, "
                f"max backlog {feeder.get('max_backlog_points', 0):,} points, errors {e['errors']}  latency p50/p99 "
                f"{line.get('latency_ms_p50', float('nan')):.0f}/{line.get('latency_ms_p99', float('nan')):.0f} ms  "
                f"CPU {line.get('server_cpu_pct', float('nan')):.0f}%  "
                f"expectation (>= 90 % of the ceiling, no gaps) {'met' if e['met'] else 'NOT met'}")

    def events(self, parts):
        """Parts `events` (ceiling search) and `overload`, for --binary and, with --compare, a second binary;
        then limitserver at the key rates."""
        search = "events" in parts or ("overload" in parts and not self.args.ceiling)
        if "events" not in parts and search:
            self.log("\n(part overload without events and without --ceiling: searching the ceiling first)")
        binaries = [("rtu104d", self.daemon)]
        if self.args.compare:
            binaries.append((self.compare_label, self.args.compare))
        overload_rates = []
        for index, (label, binary) in enumerate(binaries):
            d = self.events_daemon(label, binary)
            try:
                if search:
                    self.log(f"\n== 2. Spontaneous events, ceiling of {label} ({binary}; M_ME_TF_1; feeder -> control "
                             f"socket -> daemon -> fastmaster)")
                    ceiling = self.events_ceiling(d)
                else:
                    ceiling = self.args.ceiling
                    self.summary["ceiling"][label] = {"ceiling": ceiling, "lowest_lossy": None, "binary": binary,
                                                      "given": True}
                if index == 0:
                    primary_ceiling = ceiling
                    overload_rates = [(f, int(ceiling * f)) for f in (2, 4)] if ceiling > 0 else []
                if "overload" in parts:
                    self.log(f"\n== 2b. Overload: {label} at 2x and 4x the ceiling of rtu104d "
                             f"({primary_ceiling:,}/s); judged against {label}'s own ceiling ({ceiling:,}/s)")
                    if not overload_rates:
                        self.log("  no lossless rate found: no overload runs")
                    else:
                        self.overload(d, ceiling, overload_rates)
                if index == 0:
                    if self.args.perf:
                        perf_rate = 100000
                        perf_file = os.path.join(self.work, "perf-events.data")
                        self.events_run(label, d["port"], d["proc"].pid, perf_rate, self.args.event_seconds,
                                        control=d["control"], seq_start=1, perf=perf_file)
                        report = os.path.join(self.work, "perf-events-report.txt")
                        self.perf_report(perf_file, report)
                        self.log(f"  perf record -g of rtu104d at {perf_rate}/s: {perf_file}; top symbols in {report}")
                    # connect + STARTDT against this daemon (section 3) while it is running
                    self.connect_one("rtu104d", d["port"], d["proc"].pid)
                    self.summary["daemon"]["events_rss"] = self.memory(d["proc"].pid).get("VmHWM", 0)
            finally:
                stop(d["proc"])

        # limitserver's generator, one event per ASDU (its default) and 16 per ASDU (as many M_ME_TF_1 as fit
        # in 249 octets, which is how rtu104d packs consecutive events), at the key rates or every rate tried
        tried = self.summary["events"].get("rtu104d", {})
        if self.args.limit_rates == "all":
            rates = set(tried)
        else:
            info = self.summary["ceiling"].get("rtu104d", {})
            rates = {r for r in (10000, 50000, 100000) if r in tried}
            rates |= {r for r in (info.get("ceiling"), info.get("lowest_lossy")) if r}
        rates |= {rate for _, rate in overload_rates} if "overload" in parts else set()
        if rates:
            self.log(f"\n== 2c. limitserver's event generator at {', '.join(f'{r:,}' for r in sorted(rates))}/s")
        for rate in sorted(rates):
            for server, per_asdu in (("limitserver", 1), ("limitserver-16", 16)):
                runs = []
                for attempt in range(self.args.event_repeats):
                    port_l = free_port()
                    limit, _ = self.start([os.path.join(self.bin, "limitserver"), str(port_l), "1000", str(rate),
                                           "--ev-per-asdu", str(per_asdu)], f"{server}-events-{rate}", ready="READY")
                    try:
                        (line,), _ = self.events_run(server, port_l, limit.pid, rate, self.args.event_seconds)
                    finally:
                        stop(limit)
                    ok = self.lossless(line, None, rate)
                    runs.append({"line": line, "feeder": None, "lossless": ok})
                    self.record("events", server, rate=rate, attempt=attempt + 1, lossless=ok,
                                events_per_asdu=per_asdu, **{k: v for k, v in line.items() if k != "label"})
                entry = self.median_run(runs)
                self.summary["events"].setdefault(server, {})[rate] = entry
                self.log(self.describe_events(server, rate, entry["line"], None, entry["lossless"], runs))

    # ------------------------------------------------------------------ 2d. fan-out
    def fanout(self):
        """Part `fanout`: one daemon with --masters stations on one listener (station I allows 127.0.0.I), all
        serving CA 47; one master per station, each from its own loopback address; one feeder. The rate
        offered per master is lossless when every master sees it lossless."""
        n, repeats = self.args.masters, self.args.event_repeats
        sources = [f"127.0.0.{i}" for i in range(1, n + 1)]
        self.log(f"\n== 2d. Fan-out: {n} masters on {n} stations ({', '.join(sources)}), the same 1,000 points, "
                 f"one feeder")
        tried = self.summary["fanout"]["tried"]
        d = self.events_daemon("rtu104d", self.daemon, stations=n)

        def trial(rate):
            runs = []
            for attempt in range(repeats):
                lines, feeder = self.run_rate(d, rate, sources)
                oks = [self.lossless(line, feeder, rate) for line in lines]
                worst = max(line.get("loss_seq_pct", 100.0) for line in lines)
                runs.append({"lines": lines, "feeder": feeder, "lossless": all(oks), "line": {"loss_seq_pct": worst}})
                for i, line in enumerate(lines):
                    self.record("fanout", "rtu104d", binary=d["binary"], masters=n, master=i + 1, source=sources[i],
                                rate=rate, attempt=attempt + 1, lossless=oks[i], feeder=feeder if i == 0 else None,
                                seq_missing=(self.gaps(line) or (None,))[0],
                                **{k: v for k, v in line.items() if k != "label"})
            entry = self.median_run(runs)
            tried[rate] = entry
            feeder = entry["feeder"] or {}
            reasons = sorted({r for line in entry["lines"] for r in self.why_not(line, entry["feeder"], rate).split(", ") if r})
            self.log(f"  offered {rate:>7,}/s per master: " +
                     ("lossless" if entry["lossless"] else f"NOT lossless ({', '.join(reasons)})") +
                     f" ({entry['lossless_runs']}/{len(runs)} runs lossless; median run shown)  feeder "
                     f"{self.achieved(feeder):,.0f}/s, errors {feeder.get('replies_error', '?')}")
            for i, line in enumerate(entry["lines"]):
                self.log("    " + self.describe_master(i + 1, sources[i], line))
            return entry["lossless"]

        try:
            low, high = self.search(trial, tried, (25000,), (50000, 100000, 150000, 200000, 300000, 400000, 600000, 800000, 1000000))
        finally:
            stop(d["proc"])
        self.summary["fanout"].update(ceiling=low, lowest_lossy=high, sources=sources)
        self.record("fanout_summary", "rtu104d", binary=d["binary"], masters=n, ceiling_per_master_per_s=low,
                    delivered_in_all_per_s=low * n, lowest_lossy_per_s=high, step_per_s=self.args.event_step)
        self.log(f"  => fan-out ceiling per master: {self.ceiling_text(low, high)}; {low * n:,} events/s delivered "
                 f"in all")

    def describe_master(self, index, source, line):
        gaps = self.gaps(line)
        return (f"master {index} ({source}): received {line.get('events_per_s', 0):>9,.0f}/s loss "
                f"{line.get('loss_seq_pct', float('nan')):6.2f}% missing {gaps[0] if gaps else '?'}  latency p50/p99 "
                f"{line.get('latency_ms_p50', float('nan')):.0f}/{line.get('latency_ms_p99', float('nan')):.0f} ms  "
                f"server CPU {line.get('server_cpu_pct', float('nan')):.0f}%" +
                ("" if line.get("ok") else f"  FAILED: {line.get('error', '?')}"))

    @staticmethod
    def median_run(runs):
        """The median run by loss (then p99 latency); lossless when most runs were."""
        ordered = sorted(runs, key=lambda r: (r["line"].get("loss_seq_pct", 100.0),
                                              r["line"].get("latency_ms_p99", 1e9)))
        entry = dict(ordered[(len(ordered) - 1) // 2])
        entry["lossless"] = sum(r["lossless"] for r in runs) * 2 > len(runs)
        entry["lossless_runs"] = sum(r["lossless"] for r in runs)
        entry["runs"] = len(runs)
        return entry

    @staticmethod
    def describe_events(server, rate, line, feeder, ok, runs=()):
        text = (f"  {server:<11} offered {rate:>7,}/s: received {line.get('events_per_s', 0):>10,.0f}/s "
                f"loss {line.get('loss_seq_pct', float('nan')):6.2f}%  latency p50/p99 "
                f"{line.get('latency_ms_p50', float('nan')):.0f}/{line.get('latency_ms_p99', float('nan')):.0f} ms  "
                f"server CPU {line.get('server_cpu_pct', float('nan')):.0f}%")
        if feeder:
            text += (f"  feeder {Bench.achieved(feeder):,.0f}/s (CPU {feeder.get('feeder_cpu_pct', 0):.0f}%, "
                     f"errors {feeder.get('replies_error', '?')})")
        text += "  lossless" if ok else f"  NOT lossless ({Bench.why_not(line, feeder, rate)})"
        if runs:
            text += f" ({sum(r['lossless'] for r in runs)}/{len(runs)} runs lossless; median run shown)"
        return text

    # ------------------------------------------------------------------ 3. connect
    def connect_one(self, server, port, pid):
        (line,) = self.fastmaster(port, "--server-pid", pid, "--label", server, "connect", self.args.connects)[-1:]
        self.summary["connect"][server] = line
        self.record("connect", server, **{k: v for k, v in line.items() if k != "label"})

    def connect(self):
        self.log("\n== 3. Connect + STARTDT act/con, then close (fastmaster connect)")
        port_l = free_port()
        limit, _ = self.start([os.path.join(self.bin, "limitserver"), str(port_l), "1000"], "limitserver-connect",
                              ready="READY")
        try:
            self.connect_one("limitserver", port_l, limit.pid)
        finally:
            stop(limit)
        for server in ("rtu104d", "limitserver"):
            line = self.summary["connect"].get(server)
            if line:
                self.log(f"  {server:<11} p50 {line.get('ms_p50', float('nan')):.3f} ms  p99 "
                         f"{line.get('ms_p99', float('nan')):.3f} ms  failures {line.get('failures')}  "
                         f"server CPU {line.get('server_cpu_pct', float('nan')):.0f}%")


    # ------------------------------------------------------------------ table
    @staticmethod
    def cell(entry, width=10, cpu=False):
        if not entry:
            return f"{'-':>{width}} {'-':>6} {'-':>7}" + (f" {'-':>5}" if cpu else "") + "  "
        line = entry["line"]
        lat = f"{line.get('latency_ms_p50', float('nan')):.0f}/{line.get('latency_ms_p99', float('nan')):.0f}"
        text = f"{line.get('events_per_s', 0):>{width},.0f} {line.get('loss_seq_pct', float('nan')):>6.2f} {lat:>7}"
        if cpu:
            text += f" {line.get('server_cpu_pct', float('nan')):>5.0f}"
        return text + ("  " if entry.get("lossless") else " x")

    def events_table(self):
        s = self.summary
        labels = [l for l in ("rtu104d", self.compare_label) if l in s["events"]]
        lossless = ("lossless = sequence loss <= 0.01 %, >= 98 % of the offered rate received, the feeder achieved "
                    ">= 99 % of it with no error reply")
        self.log(f"events ceiling, highest lossless offered rate ({lossless}; bisection to "
                 f"{self.args.event_step:,}/s):")
        for label, info in s["ceiling"].items():
            if info.get("given"):
                self.log(f"  {label:<16} {info['ceiling']:,}/s (given with --ceiling, not measured)")
            else:
                self.log(f"  {label:<16} {self.ceiling_text(info['ceiling'], info['lowest_lossy'])}  [{info['binary']}]")
        rates = sorted(set().union(*(s["events"].get(k, {}) for k in (*labels, "limitserver", "limitserver-16"))))
        if rates:
            titles = [f"{l[:33]:<33}" for l in labels] + [f"{'limitserver 16/ASDU':<27}", f"{'limitserver 1/ASDU':<27}"]
            heads = ([f"{'rx/s':>10} {'loss %':>6} {'p50/p99':>7} {'CPU %':>5}  "] * len(labels) +
                     [f"{'rx/s':>10} {'loss %':>6} {'p50/p99':>7}  "] * 2)
            self.log(f"{'':>10} | " + " | ".join(titles))
            self.log(f"{'offered/s':>10} | " + " | ".join(heads))
            for rate in rates:
                cells = [self.cell(s["events"].get(l, {}).get(rate), cpu=True) for l in labels]
                cells += [self.cell(s["events"].get(k, {}).get(rate)) for k in ("limitserver-16", "limitserver")]
                self.log(f"{rate:>10,} | " + " | ".join(cells))
            self.log("(x: not lossless; '-': not run at that rate; limitserver runs at 10k/50k/100k, the ceiling, the "
                     "lowest lossy rate and the overload rates, or every rate with --limit-rates all)")
        best = {k: max([r for r, e in s["events"].get(k, {}).items() if e["lossless"]], default=0)
                for k in ("limitserver", "limitserver-16")}
        self.record("events_summary_limit", "limitserver", limit_max_lossless_per_s=best["limitserver"],
                    limit16_max_lossless_per_s=best["limitserver-16"], rates=rates)

    def overload_table(self):
        s = self.summary
        self.log("\noverload (back-pressure: the feeder is held back; expectation: >= 90 % of the ceiling received, "
                 "no sequence value missing in any run; latency counts the wait in the feeder, not judged)")
        self.log(f"{'daemon':<16} {'x':>2} {'offered/s':>10} {'rx/s':>10} {'of ceil':>7} {'loss %':>6} {'missing':>8} "
                 f"{'feeder/s':>10} {'behind s':>8} {'max backlog':>11} {'p50/p99 ms':>11} {'CPU %':>5}  expectation")
        for label, rows in s["overload"].items():
            for rate, e in sorted(rows.items()):
                line, feeder = e["line"], e["feeder"] or {}
                rx = line.get("events_per_s", 0.0)
                lat = f"{line.get('latency_ms_p50', float('nan')):.0f}/{line.get('latency_ms_p99', float('nan')):.0f}"
                share = f"{rx / e['ceiling']:.0%}" if e["ceiling"] else "-"
                self.log(f"{label[:16]:<16} {e['factor']:>2} {rate:>10,} {rx:>10,.0f} {share:>7} "
                         f"{line.get('loss_seq_pct', float('nan')):>6.2f} {e['missing']:>8,} {self.achieved(feeder):>10,.0f} "
                         f"{feeder.get('behind_at_mark_s', float('nan')):>8.1f} {feeder.get('max_backlog_points', 0):>11,} "
                         f"{lat:>11} {line.get('server_cpu_pct', float('nan')):>5.0f}  "
                         f"{'met' if e['met'] else 'NOT met'}" +
                         ("" if e["met"] else f" ({'' if e['enough'] else 'too little received'}"
                          f"{'' if e['enough'] or e['no_gaps'] else ', '}{'' if e['no_gaps'] else 'sequence gaps'})"))
        self.log("(rx/s, loss, feeder: the median run by events received; missing: sequence values missing over all "
                 "runs; behind: the feeder's backlog at the end of the window in seconds of the offered rate)")

    def fanout_table(self):
        f = self.summary["fanout"]
        if not f.get("tried"):
            return
        low, high = f.get("ceiling", 0), f.get("lowest_lossy")
        self.log(f"\nfan-out, {self.args.masters} masters on {self.args.masters} stations, one feeder: lossless per "
                 f"master to {self.ceiling_text(low, high)}, {low * self.args.masters:,} events/s delivered in all")
        for title, rate in (("at the fan-out ceiling", low), ("at the lowest lossy rate", high)):
            entry = f["tried"].get(rate)
            if not entry:
                continue
            feeder = entry["feeder"] or {}
            self.log(f"  {title}, {rate:,}/s per master (feeder {self.achieved(feeder):,.0f}/s, "
                     f"errors {feeder.get('replies_error', '?')}):")
            for i, line in enumerate(entry["lines"]):
                self.log("    " + self.describe_master(i + 1, f["sources"][i], line))

    def table(self):
        s = self.summary
        self.log(f"\n== summary (run {self.run_id}, {self.machine['cores']} cores, load at start "
                 f"{self.machine['load_at_start']:.2f}; ratios are taken within this run)")
        if s["gi"]:
            self.log(f"{'GI points':>10} {'rtu104d obj/s':>14} {'CPU %':>6} {'limit obj/s':>12} {'ratio':>6} "
                     f"{'c104 obj/s':>14} {'load s':>7} {'RSS MiB':>8} {'peak MiB':>9}")
            for n, row in s["gi"].items():
                c = s["c104"].get(n)
                c_text = "-" if c is None else (f"fails {c.get('objects_received', 0)}/{n}" if c.get("stalled")
                                                else f"{c['median']:,.0f}")
                d = s["daemon"].get(n, {})
                self.log(f"{n:>10,} {row['rtu104d']['median']:>14,.0f} {row['rtu104d']['cpu']:>6.0f} "
                         f"{row['limitserver']['median']:>12,.0f} {row['ratio']:>6.3f} {c_text:>14} "
                         f"{d.get('load_s', 0):>7.2f} {d.get('rss_loaded', 0):>8.0f} {d.get('rss_peak', 0):>9.0f}")
            self.log("(obj/s: medians of ACTCON -> ACTTERM; CPU: rtu104d's median over the GI; load: start until the "
                     "port accepts; RSS after load and peak after the GIs)")
        else:
            self.log("(GI not measured in this run)")
        self.log("")
        if not s["ceiling"]:
            self.log("(events not measured in this run)")
        else:
            self.events_table()
        if s["overload"]:
            self.overload_table()
        self.fanout_table()
        self.log("")
        for server, line in s["connect"].items():
            self.log(f"connect+STARTDT {server:<11} p50 {line.get('ms_p50', float('nan')):.3f} ms  "
                     f"p99 {line.get('ms_p99', float('nan')):.3f} ms")
        self.log(f"\nresults appended to {os.path.relpath(self.results_path, ROOT)}; logs in "
                 f"{os.path.relpath(self.logs, ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="gi,c104,events,overload,fanout,connect",
                        help="comma-separated: gi, c104, events, overload, fanout, connect (default: all)")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "rtu104d"),
                        help="the rtu104d to measure (default .build/release/rtu104d)")
    parser.add_argument("--compare", metavar="PATH",
                        help="a second rtu104d (e.g. the previous release): its events ceiling (and overload runs) "
                             "in the same run, side by side")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[3000, 10000, 100000, 1000000])
    parser.add_argument("--event-seconds", type=float, default=5.0)
    parser.add_argument("--event-repeats", type=int, default=3, help="runs per rate; the median run is reported")
    parser.add_argument("--event-step", type=int, default=5000,
                        help="resolution of the bisection for the ceilings (events/s)")
    parser.add_argument("--refine", type=int, default=6,
                        help="at most this many bisection steps per ceiling (stops earlier at --event-step)")
    parser.add_argument("--ceiling", type=int, default=0,
                        help="overload without events: take this as the ceiling instead of searching it")
    parser.add_argument("--limit-rates", choices=("key", "all"), default="key",
                        help="limitserver at 10k/50k/100k, the ceiling, the lowest lossy rate and the overload rates "
                             "(key), or at every rate rtu104d tried (all)")
    parser.add_argument("--masters", type=int, default=4, help="fan-out: masters, one station each (127.0.0.1..N)")
    parser.add_argument("--connects", type=int, default=1000)
    parser.add_argument("--perf", action="store_true", help="perf record -g the daemon during a 100k/s events run")
    parser.add_argument("--results", default=os.path.join(ROOT, ".build", "bench", "daemon-results.jsonl"))
    args = parser.parse_args()
    parts = args.parts.split(",")
    unknown = set(parts) - {"gi", "c104", "events", "overload", "fanout", "connect"}
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; parts: gi, c104, events, overload, fanout, connect")
    for path in [args.binary] + ([args.compare] if args.compare else []):
        if not os.access(path, os.X_OK):
            parser.error(f"{path} is not an executable file")
    if not 1 <= args.masters <= 254:
        parser.error("--masters must be 1…254")
    args.binary = os.path.abspath(args.binary)
    args.compare = os.path.abspath(args.compare) if args.compare else None
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    bench = Bench(args)
    bench.log(f"rtu104d daemon benchmarks, run {bench.run_id}: {bench.machine}; binary {args.binary}"
              + (f", compared with {args.compare} ({bench.compare_label})" if args.compare else ""))
    status = 0
    try:
        if "gi" in parts:
            bench.gi()
        if "c104" in parts:
            bench.c104()
        if "events" in parts or "overload" in parts:
            bench.events(parts)
        if "fanout" in parts:
            bench.fanout()
        if "connect" in parts:
            bench.connect()
    except Exception as error:  # report, still print what was measured, still stop everything
        bench.log(f"FAIL: {type(error).__name__}: {error}")
        status = 1
    finally:
        stop_all()
    bench.table()
    return status


if __name__ == "__main__":
    sys.exit(main())
