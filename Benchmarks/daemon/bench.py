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
  files (file_transfer_cost.py): `rtu104ctl files get` of 1 MiB and 16 MB from rtu104d and, when one is given,
     lib60870-C's file server, taking turns: MB/s and the server's CPU.
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

import file_transfer_cost
import journal_cost
import metrics_cost

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

started = []  # Popen objects of every process we started

# every part, in the order they run; `startup` (startup.py, minutes of 1M-point loads) only when asked for
PARTS = ("gi", "c104", "events", "overload", "fanout", "masters", "refusals", "connect", "metrics", "journal",
         "files")

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
                        "connect": {}, "daemon": {}, "masters": {}, "refusals": {}, "startup": None}
        # the third server: a lib60870-C outstation (shared/bench/lib60870_perf_server.c), when one was built
        self.lib60870 = args.lib60870 if args.lib60870 and os.access(args.lib60870, os.X_OK) else None
        if args.lib60870 and not self.lib60870:
            self.lib60870_skipped = f"{args.lib60870} is not an executable file"
        else:
            self.lib60870_skipped = os.environ.get(
                "LIB60870_SKIPPED", "no peer: set LIB60870_PERF_SERVER=/path/to/lib60870_perf_server, or "
                "LIB60870_DIR=/path/to/lib60870 (a v2.4.1 checkout) for Benchmarks/daemon/run to build it")
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

    def start_daemon(self, n, port, name, event_buffer=10000, binary=None, stations=1, tag="rtu104d", metrics_port=0,
                     event_journal="off"):
        # one folder per binary and station count: each daemon keeps its own state file
        directory = os.path.join(self.work, f"n{n}" + ("" if tag == "rtu104d" else f"-{tag}") +
                                 ("" if stations == 1 else f"-{stations}st"))
        subprocess.run([sys.executable, os.path.join(HERE, "gen_config.py"), directory, str(n), str(port),
                        "--event-buffer", str(event_buffer), "--stations", str(stations),
                        "--metrics-port", str(metrics_port), "--event-journal", event_journal], check=True)
        proc, load_s = self.start([binary or self.daemon, "--config", os.path.join(directory, "rtu104d.conf")], name,
                                  port=port, timeout=300)
        # the control socket is bound after the listener; wait for it as well
        control = os.path.join(directory, "run", "control.sock")
        deadline = time.monotonic() + 30
        while not os.path.exists(control) and time.monotonic() < deadline:
            time.sleep(0.01)
        return proc, load_s, control

    @staticmethod
    def cpu_seconds(pid):
        """User + system CPU seconds of a process so far (all threads), from /proc/PID/stat."""
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

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
        servers = ["rtu104d", "limitserver"] + (["lib60870-C"] if self.lib60870 else [])
        self.log(f"\n== 1. General interrogation (fastmaster gi, new connection per run, k=12 w=8): {', '.join(servers)}")
        if not self.lib60870:
            self.log(f"  lib60870-C skipped: {self.lib60870_skipped}")
        for n in self.args.sizes:
            r = self.args.gi_repeats
            port_d, port_l, port_p = free_port(), free_port(), free_port()
            limit, _ = self.start([os.path.join(self.bin, "limitserver"), str(port_l), str(n)],
                                  f"limitserver-gi-{n}", ready="READY")
            peer = None
            if self.lib60870:
                peer, _ = self.start([self.lib60870, str(port_p), str(n)], f"lib60870-gi-{n}", ready="ready")
            daemon, load_s, _ = self.start_daemon(n, port_d, f"rtu104d-gi-{n}")
            mem = self.memory(daemon.pid)
            self.record("load", "rtu104d", points=n, load_s=round(load_s, 3), rss_mib=round(mem.get("VmRSS", 0), 1),
                        rss_peak_during_load_mib=round(mem.get("VmHWM", 0), 1))
            self.summary["daemon"][n] = {"load_s": load_s, "rss_loaded": mem.get("VmRSS", 0),
                                         "rss_load_peak": mem.get("VmHWM", 0)}
            targets = [("rtu104d", port_d, daemon), ("limitserver", port_l, limit)]
            if peer:
                targets.append(("lib60870-C", port_p, peer))
            figures = {server: [] for server, _, _ in targets}
            cpu = {server: [] for server, _, _ in targets}
            whole = {server: [] for server, _, _ in targets}  # N / (request -> ACTTERM)
            failures = {server: 0 for server, _, _ in targets}
            errors = {server: None for server, _, _ in targets}
            # the servers take turns, so that a noisy second on the machine hits all of them alike
            for run in range(r):
                for server, port, proc in targets:
                    (line,) = self.fastmaster(port, "--expect", n, "--timeout", 120, "--server-pid", proc.pid,
                                              "--label", server, "gi", 1)[-1:]
                    self.record("gi", server, points=n, **{k: v for k, v in line.items() if k != "label"})
                    if line.get("ok") and line.get("complete"):
                        figures[server].append(line["objects_per_s"])
                        whole[server].append(n / line["request_to_actterm_s"])
                        cpu[server].append(line.get("server_cpu_pct", float("nan")))
                    else:
                        failures[server] += 1
                        errors[server] = (f"{line.get('error', 'incomplete')} after {line.get('objects', 0)} of {n} "
                                          f"objects")
            mem = self.memory(daemon.pid)
            self.summary["daemon"][n]["rss_peak"] = mem.get("VmHWM", 0)
            for _, _, proc in targets:
                stop(proc)
            row = {}
            for server in figures:
                med = statistics.median(figures[server]) if figures[server] else 0.0
                row[server] = {"median": med, "runs": len(figures[server]), "failures": failures[server],
                               "error": errors[server],
                               "cpu": statistics.median(cpu[server]) if cpu[server] else float("nan"),
                               "whole": statistics.median(whole[server]) if whole[server] else 0.0,
                               "min": min(figures[server], default=0.0), "max": max(figures[server], default=0.0)}
            ratio = row["rtu104d"]["median"] / row["limitserver"]["median"] if row["limitserver"]["median"] else 0.0
            row["ratio"] = ratio
            peer_median = row.get("lib60870-C", {}).get("median", 0.0)
            row["ratio_lib60870"] = row["rtu104d"]["median"] / peer_median if peer_median else None
            self.summary["gi"][n] = row
            extra = {}
            if "lib60870-C" in row:
                extra = {"lib60870_median_objects_per_s": peer_median,
                         "ratio_lib60870": round(row["ratio_lib60870"], 4) if row["ratio_lib60870"] else None,
                         "lib60870_server_cpu_pct": row["lib60870-C"]["cpu"],
                         "lib60870_failures": row["lib60870-C"]["failures"]}
            self.record("gi_summary", "rtu104d", points=n, repeats=r, median_objects_per_s=row["rtu104d"]["median"],
                        limit_median_objects_per_s=row["limitserver"]["median"], ratio=round(ratio, 4),
                        median_request_to_actterm_objects_per_s=row["rtu104d"]["whole"],
                        limit_median_request_to_actterm_objects_per_s=row["limitserver"]["whole"],
                        rtu104d_server_cpu_pct=row["rtu104d"]["cpu"], limit_server_cpu_pct=row["limitserver"]["cpu"],
                        rtu104d_failures=failures["rtu104d"], load_s=round(load_s, 3),
                        rss_peak_mib=round(mem.get("VmHWM", 0), 1), **extra)
            text = (f"  N={n:>8}: rtu104d {row['rtu104d']['median']:>13,.0f} obj/s  limitserver "
                    f"{row['limitserver']['median']:>13,.0f} obj/s  ratio {ratio:.3f}")
            if "lib60870-C" in row:
                text += (f"  lib60870-C {peer_median:>12,.0f} obj/s  ratio " +
                         (f"{row['ratio_lib60870']:.2f}" if row["ratio_lib60870"] else "-"))
            self.log(text + f"  (load {load_s:.2f} s, RSS {mem.get('VmHWM', 0):.0f} MiB peak)")
            for server in figures:
                if failures[server]:
                    self.log(f"    {server}: {failures[server]} of {r} GIs failed or incomplete ({errors[server]})")

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
        cmd = [os.path.join(self.bin, "connect_startdt"), "--port", str(port), "--count", str(self.args.connects),
               "--server-pid", str(pid), "--label", server]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        lines = [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]
        if not lines:
            raise RuntimeError(f"connect_startdt printed nothing: {' '.join(cmd)}\n{done.stderr}")
        line = lines[-1]
        self.summary["connect"][server] = line
        self.record("connect", server, **{k: v for k, v in line.items() if k != "label"})

    def connect(self):
        self.log("\n== 3. Connect + STARTDT act/con, then close (connect_startdt)")
        if not self.lib60870:
            self.log(f"  lib60870-C skipped: {self.lib60870_skipped}")
        if "rtu104d" not in self.summary["connect"]:  # not measured during the events part: a daemon of its own
            port = free_port()
            daemon, _, _ = self.start_daemon(1000, port, "rtu104d-connect")
            try:
                self.connect_one("rtu104d", port, daemon.pid)
            finally:
                stop(daemon)
        servers = [("limitserver", [os.path.join(self.bin, "limitserver")], "READY")]
        if self.lib60870:
            servers.append(("lib60870-C", [self.lib60870], "ready"))
        for server, cmd, ready in servers:
            port = free_port()
            proc, _ = self.start(cmd + [str(port), "1000"], f"{server}-connect", ready=ready)
            try:
                self.connect_one(server, port, proc.pid)
            finally:
                stop(proc)
        for server in ("rtu104d", "limitserver", "lib60870-C"):
            line = self.summary["connect"].get(server)
            if line:
                self.log(f"  {server:<11} {self.describe_connect(line)}")

    @staticmethod
    def describe_connect(line):
        return (f"p50 {line.get('ms_p50', float('nan')):.3f} ms  p90 {line.get('ms_p90', float('nan')):.3f} ms  p99 "
                f"{line.get('ms_p99', float('nan')):.3f} ms  failures {line.get('failures')}  server CPU "
                f"{line.get('server_cpu_pct', float('nan')):.0f}%")

    # ------------------------------------------------------------------ 4. many masters
    def raise_open_files(self, needed):
        """The daemon and manymasters inherit this process's limit on open files: one per master each."""
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < needed:
            new = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            self.log(f"  open-file limit raised from {soft} to {new}")
            if new < needed:
                self.log(f"  warning: the hard limit {hard} is below the {needed} descriptors needed")

    def masters(self):
        count, seconds, rate = self.args.masters_count, self.args.masters_seconds, self.args.masters_rate
        points = self.args.masters_points
        self.log(f"\n== 4. {count:,} masters at once: one listener, {count:,} stations (CA 1…{count}, {points} float "
                 f"points each, station I allows 127.1.x.y only), a GI each, then {rate:,} events/s spread over the "
                 f"stations for {seconds:g} s (feeder -> control socket)")
        self.raise_open_files(2 * count + 256)
        port = free_port()
        directory = os.path.join(self.work, f"masters-{count}")
        subprocess.run([sys.executable, os.path.join(HERE, "gen_config.py"), directory, str(points), str(port),
                        "--masters", str(count)], check=True)
        daemon, load_s, control = None, 0.0, os.path.join(directory, "run", "control.sock")
        result = {"masters": count, "seconds": seconds, "rate": rate, "points_per_station": points}
        self.summary["masters"] = result
        daemon, load_s = self.start([self.daemon, "--config", os.path.join(directory, "rtu104d.conf")],
                                    "rtu104d-masters", port=port, timeout=300)
        deadline = time.monotonic() + 30
        while not os.path.exists(control) and time.monotonic() < deadline:
            time.sleep(0.01)
        mem_loaded = self.memory(daemon.pid)
        result.update(load_s=load_s, rss_loaded=mem_loaded.get("VmRSS", 0))
        cpu0, t0 = self.cpu_seconds(daemon.pid), time.monotonic()
        masters = subprocess.Popen([os.path.join(self.bin, "manymasters"), "--port", str(port), "--count", str(count),
                                    "--expect-gi", str(points), "--gi-timeout", "120"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=open(os.path.join(self.logs, "manymasters.log"), "w"), text=True)
        started.append(masters)
        gi_line = masters.stdout.readline()
        if not gi_line.startswith("{"):
            raise RuntimeError(f"manymasters printed no GI line (log {self.logs}/manymasters.log)")
        gi = json.loads(gi_line)
        cpu1, t1 = self.cpu_seconds(daemon.pid), time.monotonic()
        mem_gi = self.memory(daemon.pid)
        result.update(gi=gi, gi_cpu_pct=100 * (cpu1 - cpu0) / (t1 - t0), rss_after_gi=mem_gi.get("VmRSS", 0))
        self.record("masters_gi", "rtu104d", binary=self.daemon, **gi, daemon_cpu_pct=round(result["gi_cpu_pct"], 1),
                    rss_mib=round(mem_gi.get("VmRSS", 0), 1))
        self.log(f"  GI: {gi['gi_complete']:,} of {count:,} complete ({gi['gi_short']} short, {gi['gi_failed']} failed"
                 f"{', ' + json.dumps(gi['failures']) if gi['failures'] else ''}) in {gi['seconds']:.2f} s, slowest "
                 f"{gi['slowest_master_s'] * 1e3:.0f} ms; daemon CPU {result['gi_cpu_pct']:.0f}%")
        # the cost of holding the connections alone (timers, idle acknowledgements), apart from the events
        idle = self.args.masters_idle_seconds
        cpu_i0, t_i0 = self.cpu_seconds(daemon.pid), time.monotonic()
        time.sleep(idle)
        result["idle_cpu_pct"] = 100 * (self.cpu_seconds(daemon.pid) - cpu_i0) / (time.monotonic() - t_i0)
        self.log(f"  idle with {count:,} masters connected ({idle:g} s, no events): daemon CPU "
                 f"{result['idle_cpu_pct']:.1f}%")
        # the events: the feeder gives CA j (1-based) the sequence 1, 2, 3, … (feeder --ca-count)
        feeder = subprocess.Popen([os.path.join(self.bin, "feeder"), "--socket", control, "--rate", str(rate),
                                   "--seconds", str(seconds), "--ca", "1", "--ca-count", str(count), "--points",
                                   str(points), "--seq-start", "1", "--deadline", "--max-batch", "1000"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(feeder)
        cpu2, t2 = self.cpu_seconds(daemon.pid), time.monotonic()
        rss_samples = []
        while feeder.poll() is None:
            rss_samples.append(self.memory(daemon.pid).get("VmRSS", 0))
            time.sleep(1.0)
        cpu3, t3 = self.cpu_seconds(daemon.pid), time.monotonic()
        out, err = feeder.communicate()
        fed = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        if not fed:
            raise RuntimeError(f"the feeder printed nothing: {err.strip()}")
        fed = fed[-1]
        time.sleep(2.0)  # the last events reach the masters
        masters.stdin.write("stop\n")
        masters.stdin.flush()
        ev_out, _ = masters.communicate(timeout=60)
        ev = [json.loads(l) for l in ev_out.splitlines() if l.startswith("{")]
        if not ev:
            raise RuntimeError("manymasters printed no events line")
        ev = ev[-1]
        mem_end = self.memory(daemon.pid)
        stop(daemon)
        # per master: what the feeder sent to its CA, against what arrived
        sent = int(fed.get("sent", 0))
        expected = [(sent - j + count - 1) // count if sent > j else 0 for j in range(count)]
        lossy = []
        for j in range(count):
            got, first, last = ev["per_master_events"][j], ev["per_master_first"][j], ev["per_master_last"][j]
            ok = (got == expected[j] and ev["per_master_missing"][j] == 0 and ev["per_master_backwards"][j] == 0 and
                  (expected[j] == 0 or (first == 1 and last == expected[j])))
            if not ok:
                lossy.append((j, got, expected[j], first, last, ev["per_master_missing"][j]))
        result.update(feeder=fed, events=ev, expected_total=sum(expected), lossy_masters=len(lossy),
                      events_cpu_pct=100 * (cpu3 - cpu2) / (t3 - t2),
                      rss_max_sampled=max(rss_samples, default=0), rss_end=mem_end.get("VmRSS", 0),
                      hwm_end=mem_end.get("VmHWM", 0))
        for j, got, want, first, last, missing in lossy[:10]:
            self.log(f"    master {j} (CA {j + 1}): received {got} of {want} events, values {first}…{last}, "
                     f"{missing} missing between")
        self.record("masters_events", "rtu104d", binary=self.daemon, masters=count, seconds=seconds, rate=rate,
                    feeder_sent=sent, feeder_errors=fed.get("replies_error"), feeder_achieved_per_s=fed.get("achieved_per_s"),
                    events_received=ev["events"], events_expected=sum(expected), lossy_masters=len(lossy),
                    still_connected=ev["still_connected"], missing=ev["missing"], backwards=ev["backwards"],
                    latency_ms_p50=ev.get("latency_ms_p50"), latency_ms_p99=ev.get("latency_ms_p99"),
                    latency_ms_max=ev.get("latency_ms_max"), failures=ev["failures"],
                    daemon_cpu_pct=round(result["events_cpu_pct"], 1), idle_cpu_pct=round(result["idle_cpu_pct"], 1),
                    rss_loaded_mib=round(result["rss_loaded"], 1),
                    rss_max_mib=round(result["rss_max_sampled"], 1), rss_end_mib=round(result["rss_end"], 1),
                    vmhwm_mib=round(result["hwm_end"], 1), load_s=round(load_s, 3))
        self.log(f"  events: feeder sent {sent:,} ({fed.get('achieved_per_s', 0):,.0f}/s, {fed.get('replies_error')} error "
                 f"replies); masters received {ev['events']:,} of {sum(expected):,}; {count - len(lossy):,} of {count:,} "
                 f"masters lossless (missing {ev['missing']}, backwards {ev['backwards']}); {ev['still_connected']:,} "
                 f"still connected; latency p50/p99/max {ev.get('latency_ms_p50', '-')}/{ev.get('latency_ms_p99', '-')}/"
                 f"{ev.get('latency_ms_max', '-')} ms")
        self.log(f"  daemon: load {load_s:.2f} s, RSS {result['rss_loaded']:.0f} MiB loaded, {result['rss_after_gi']:.0f} "
                 f"MiB after the GIs, max {result['rss_max_sampled']:.0f} MiB during the events (VmHWM "
                 f"{result['hwm_end']:.0f} MiB); CPU {result['gi_cpu_pct']:.0f}% over the GIs, "
                 f"{result['events_cpu_pct']:.1f}% over the events")

    # ------------------------------------------------------------------ 5. refusals
    def refusals(self):
        count, repeats = self.args.refusals, self.args.refusal_repeats
        self.log(f"\n== 5. Refusals: {count:,} C_IC_NA_1 to unknown common addresses (20000…20999) per run, never more "
                 f"than k=12 unacknowledged; answers/s, every answer checked for a negative ACTCON with COT 46 "
                 f"(median of {repeats})")
        if not self.lib60870:
            self.log(f"  lib60870-C skipped: {self.lib60870_skipped}")
        port_d = free_port()
        daemon, _, _ = self.start_daemon(1000, port_d, "rtu104d-refusals")
        targets = [("rtu104d", port_d, daemon)]
        if self.lib60870:
            port_p = free_port()
            peer, _ = self.start([self.lib60870, str(port_p), "1000"], "lib60870-refusals", ready="ready")
            targets.append(("lib60870-C", port_p, peer))
        runs = {server: [] for server, _, _ in targets}
        try:
            for _ in range(repeats):
                for server, port, proc in targets:
                    cmd = [os.path.join(self.bin, "refusals"), "--port", str(port), "--count", str(count),
                           "--server-pid", str(proc.pid), "--label", server]
                    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
                    lines = [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]
                    line = lines[-1] if lines else {"ok": False, "error": done.stderr.strip() or "no output"}
                    self.record("refusals", server, **{k: v for k, v in line.items() if k != "label"})
                    runs[server].append(line)
        finally:
            for _, _, proc in targets:
                stop(proc)
        for server, lines in runs.items():
            rates = [l.get("answers_per_s", 0.0) for l in lines if l.get("answers") == count]
            entry = {"median": statistics.median(rates) if rates else 0.0, "runs": len(lines),
                     "all_cot46": all(l.get("ok") for l in lines), "lines": lines,
                     "cpu": statistics.median([l.get("server_cpu_pct", float("nan")) for l in lines])}
            self.summary["refusals"][server] = entry
            bad = [l for l in lines if not l.get("ok")]
            answer = ("every answer a negative ACTCON (C_IC_NA_1, P/N=1) with COT 46 and the request's CA" if not bad else
                      f"NOT all COT 46: {bad[0].get('other_answers', '?')} other answers (first: type "
                      f"{bad[0].get('first_other_type')}, COT {bad[0].get('first_other_cot')}, negative "
                      f"{bad[0].get('first_other_negative')}), {bad[0].get('wrong_ca', '?')} with an unexpected CA"
                      f"{', ' + bad[0]['error'] if bad[0].get('error') else ''}")
            self.log(f"  {server:<11} {entry['median']:>10,.0f} answers/s (server CPU {entry['cpu']:.0f}%); {answer}")
        d, p = self.summary["refusals"].get("rtu104d"), self.summary["refusals"].get("lib60870-C")
        ratio = d["median"] / p["median"] if d and p and p["median"] else None
        self.summary["refusals_ratio"] = ratio
        self.record("refusals_summary", "rtu104d", requests=count, repeats=repeats, median_answers_per_s=d["median"],
                    all_cot46=d["all_cot46"], lib60870_median_answers_per_s=p["median"] if p else None,
                    lib60870_all_cot46=p["all_cot46"] if p else None, ratio_lib60870=ratio)
        if ratio:
            self.log(f"  ratio rtu104d / lib60870-C {ratio:.2f}")

    # ------------------------------------------------------------------ 6. start-up and reload
    def startup(self):
        script = os.path.join(HERE, "startup.py")
        self.log("\n== 6. Start-up and reload with 1M points (Benchmarks/daemon/startup.py)")
        # startup.py BINARY [--points …] [--reload N] [--work DIR]: one JSON line per result on stdout (appended here
        # to the results file), progress on stderr (passed through)
        done = subprocess.run([sys.executable, script, self.daemon, "--work", os.path.join(self.work, "startup")],
                              stdout=subprocess.PIPE, text=True, timeout=3600)
        lines = [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]
        for line in lines:
            self.record("startup", "rtu104d", binary=self.daemon, **line)
            self.log("  " + json.dumps(line, sort_keys=True))
        self.summary["startup"] = {"exit": done.returncode, "lines": lines}
        self.log(f"  startup.py exited with {done.returncode}")

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

    def masters_table(self):
        m = self.summary["masters"]
        if not m:
            return
        self.log(f"\n{m['masters']:,} masters, one station each (CA 1…{m['masters']}), {m['rate']:,} events/s for "
                 f"{m['seconds']:g} s spread over them:")
        gi = m.get("gi")
        if gi:
            self.log(f"  GIs complete {gi['gi_complete']:,} of {m['masters']:,} in {gi['seconds']:.2f} s (slowest "
                     f"{gi['slowest_master_s'] * 1e3:.0f} ms); daemon CPU over the GIs {m['gi_cpu_pct']:.0f}%")
        ev = m.get("events")
        if ev:
            self.log(f"  events received {ev['events']:,} of {m['expected_total']:,} sent; masters with loss "
                     f"{m['lossy_masters']:,} (missing {ev['missing']}, backwards {ev['backwards']}); still connected "
                     f"{ev['still_connected']:,}; latency p50/p99 {ev.get('latency_ms_p50', '-')}/"
                     f"{ev.get('latency_ms_p99', '-')} ms")
            self.log(f"  daemon RSS loaded {m['rss_loaded']:.0f} MiB, max during events {m['rss_max_sampled']:.0f} MiB, "
                     f"VmHWM {m['hwm_end']:.0f} MiB; CPU over the events {m['events_cpu_pct']:.1f}%, idle (connected, "
                     f"no events) {m.get('idle_cpu_pct', float('nan')):.1f}%")

    def refusals_table(self):
        r = self.summary["refusals"]
        if not r:
            return
        self.log(f"\nrefusals (C_IC to unknown CAs, k=12), answers/s, median of {self.args.refusal_repeats}:")
        for server, e in r.items():
            self.log(f"  {server:<11} {e['median']:>10,.0f}/s  server CPU {e['cpu']:.0f}%  "
                     f"{'all negative ACTCON COT 46' if e['all_cot46'] else 'NOT all COT 46 (see above)'}")
        if self.summary.get("refusals_ratio"):
            self.log(f"  ratio rtu104d / lib60870-C {self.summary['refusals_ratio']:.2f}")
        elif "lib60870-C" not in r:
            self.log(f"  (lib60870-C skipped: {self.lib60870_skipped})")

    def table(self):
        s = self.summary
        self.log(f"\n== summary (run {self.run_id}, {self.machine['cores']} cores, load at start "
                 f"{self.machine['load_at_start']:.2f}; ratios are taken within this run)")
        if s["gi"]:
            self.log(f"{'GI points':>10} {'rtu104d obj/s':>14} {'CPU %':>6} {'limit obj/s':>12} {'ratio':>6} "
                     f"{'lib60870-C obj/s':>17} {'ratio':>6} {'c104 obj/s':>14} {'load s':>7} {'RSS MiB':>8} "
                     f"{'peak MiB':>9}")
            for n, row in s["gi"].items():
                c = s["c104"].get(n)
                c_text = "-" if c is None else (f"fails {c.get('objects_received', 0)}/{n}" if c.get("stalled")
                                                else f"{c['median']:,.0f}")
                p = row.get("lib60870-C")
                p_text = "skipped" if p is None else (f"{p['median']:,.0f}" if p["runs"] else "failed")
                p_ratio = f"{row['ratio_lib60870']:.2f}" if row.get("ratio_lib60870") else "-"
                d = s["daemon"].get(n, {})
                self.log(f"{n:>10,} {row['rtu104d']['median']:>14,.0f} {row['rtu104d']['cpu']:>6.0f} "
                         f"{row['limitserver']['median']:>12,.0f} {row['ratio']:>6.3f} {p_text:>17} {p_ratio:>6} "
                         f"{c_text:>14} {d.get('load_s', 0):>7.2f} {d.get('rss_loaded', 0):>8.0f} "
                         f"{d.get('rss_peak', 0):>9.0f}")
            self.log(f"(obj/s: medians of {self.args.gi_repeats} ACTCON -> ACTTERM, a new connection each; ratio: "
                     "rtu104d / limitserver, then rtu104d / lib60870-C; CPU: rtu104d's median over the GI; load: start "
                     "until the port accepts; RSS after load and peak after the GIs)")
            if not self.lib60870:
                self.log(f"(lib60870-C skipped: {self.lib60870_skipped})")
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
        self.masters_table()
        self.refusals_table()
        for server, line in s["connect"].items():
            self.log(f"connect+STARTDT {server:<11} {self.describe_connect(line)}")
        if s["startup"]:
            self.log(f"start-up (startup.py): {json.dumps(s['startup'])[:300]}")
        for key, row in s.get("metrics", {}).items():
            if key.startswith("gi"):
                self.log(f"metrics {key}: off {row['off']:,.0f} obj/s, on {row['on']:,.0f} obj/s, on/off {row['ratio']:.3f}")
            else:
                self.log(f"metrics {key}: {row['lossless']}/{row['runs']} runs lossless, daemon CPU {row['cpu']:.0f}%")
        for key, row in s.get("journal", {}).items():
            if key.startswith("ceiling"):
                self.log(f"journal {key}: lossless up to {row['ceiling']:,}/s")
            else:
                self.log(f"journal {key}: {row['lossless']}/{row['runs']} runs lossless, received "
                         f"{row['received']:,.0f}/s, daemon CPU {row['cpu']:.0f}%")
        file_transfer_cost.table(self)
        self.log(f"\nresults appended to {os.path.relpath(self.results_path, ROOT)}; logs in "
                 f"{os.path.relpath(self.logs, ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"comma-separated: {', '.join(PARTS + ('startup',))} (default: all but startup)")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "rtu104d"),
                        help="the rtu104d to measure (default .build/release/rtu104d)")
    parser.add_argument("--compare", metavar="PATH",
                        help="a second rtu104d (e.g. the previous release): its events ceiling (and overload runs) "
                             "in the same run, side by side")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[10000, 100000, 1000000])
    parser.add_argument("--gi-repeats", type=int, default=5, help="GIs per server and size; the median is reported")
    parser.add_argument("--lib60870", metavar="PATH", default=os.environ.get("LIB60870_PERF_SERVER"),
                        help="lib60870_perf_server (shared/bench/lib60870_perf_server.c on lib60870-C) as a third "
                             "server in gi, refusals and connect (default: $LIB60870_PERF_SERVER; skipped without)")
    parser.add_argument("--masters-count", type=int, default=1000, help="masters part: masters, one station each")
    parser.add_argument("--masters-seconds", type=float, default=60.0, help="masters part: seconds of events")
    parser.add_argument("--masters-rate", type=int, default=1000, help="masters part: events/s over all stations")
    parser.add_argument("--masters-idle-seconds", type=float, default=5.0,
                        help="masters part: seconds with every master connected and no events, for the idle CPU")
    parser.add_argument("--masters-points", type=int, default=10, help="masters part: float points per station")
    parser.add_argument("--refusals", type=int, default=2000, help="refusals part: C_IC to unknown CAs per run")
    parser.add_argument("--refusal-repeats", type=int, default=5, help="refusals part: runs per server (median)")
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
    parser.add_argument("--journal-rates", type=lambda s: [int(x) for x in s.split(",")],
                        default=[50000, 100000, 200000, 400000, 800000],
                        help="part journal: offered event rates, each run with the journal off, sync normal and full")
    parser.add_argument("--metrics-rates", type=lambda s: [int(x) for x in s.split(",")], default=[100000, 300000],
                        help="metrics part: event rates run with the endpoint off and on")
    parser.add_argument("--metrics-scrape", type=float, default=1.0,
                        help="metrics part: seconds between scrapes while the endpoint is on")
    parser.add_argument("--file-repeats", type=int, default=3,
                        help="part files: `rtu104ctl files get` runs per file and server (the median is reported)")
    parser.add_argument("--results", default=os.path.join(ROOT, ".build", "bench", "daemon-results.jsonl"))
    args = parser.parse_args()
    parts = args.parts.split(",")
    unknown = set(parts) - set(PARTS) - {"startup"}
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; parts: {', '.join(PARTS + ('startup',))}")
    if not 1 <= args.masters_count <= 62500:
        parser.error("--masters-count must be 1…62500 (one 127.1.x.y address and one CA each)")
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
        if "masters" in parts:
            bench.masters()
        if "refusals" in parts:
            bench.refusals()
        if "connect" in parts:
            bench.connect()
        if "startup" in parts:
            bench.startup()
        if "metrics" in parts:
            metrics_cost.run(bench)
        if "journal" in parts:
            journal_cost.run(bench)
        if "files" in parts:
            file_transfer_cost.run(bench)
    except Exception as error:  # report, still print what was measured, still stop everything
        bench.log(f"FAIL: {type(error).__name__}: {error}")
        status = 1
    finally:
        stop_all()
    bench.table()
    return status


if __name__ == "__main__":
    sys.exit(main())
