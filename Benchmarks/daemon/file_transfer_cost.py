"""Part `files` of Benchmarks/daemon/bench.py: file transfer (IEC 60870-5-101 7.4.11, monitor direction).

rtu104d with its own configuration under .build/bench/files (one station on CA 47 allowing 127.0.0.1, ten float
points, `[files records]` on IOA 30001-30010 with the default section_size of 65,536 octets) serves a folder with
two files of random octets: 1 MiB (IOA 30001) and 16,000,000 octets (IOA 30002, 245 sections). `rtu104ctl files
get` (the release build beside the daemon, or .build/release/rtu104ctl) fetches each file --file-repeats times;
every run must exit 0 with the sha256 of the source. Per run: octets, the tool's own `in T s` (select to the file
acknowledgement) and the wall clock of the whole command (connect and STARTDT included), MB/s (10^6 octets/s, from
the tool's seconds), the server's CPU seconds over the command (/proc/PID/stat before and after) and rtu104ctl's.
With a lib60870-C file server (Tests/Interop/peers/lib60870_file_server.c on lib60870-C 2.4.1, sections of 65,536
octets too: $LIB60870_FILE_SERVER, or built by Benchmarks/daemon/run from LIB60870_DIR), the same transfers from
it, the two servers taking turns run by run so that a noisy second on this shared machine hits both alike."""
import hashlib
import os
import re
import resource
import shutil
import statistics
import subprocess
import time

from metrics_cost import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

CA = 47
FIRST_IOA = 30001
SECTION_SIZE = 65536
# name, octets; served at FIRST_IOA, FIRST_IOA + 1, … (rtu104d: oldest first; the lib60870 peer: by name)
FILES = (("a-1MiB.bin", 1 << 20), ("b-16MB.bin", 16_000_000))
DONE = re.compile(r"^(\d+):(\d+) NOF (\d+): (\d+) octets, sha256 ([0-9a-f]{64}), in ([0-9.]+) s$")


def ctl_path(bench):
    beside = os.path.join(os.path.dirname(bench.daemon), "rtu104ctl")
    if os.access(beside, os.X_OK):
        return beside
    return os.path.join(ROOT, ".build", "release", "rtu104ctl")


def peer_path():
    """The lib60870-C file server, or (None, why it is skipped)."""
    path = os.environ.get("LIB60870_FILE_SERVER")
    if path:
        if os.access(path, os.X_OK):
            return path, None
        return None, f"LIB60870_FILE_SERVER={path} is not an executable file"
    return None, os.environ.get(
        "LIB60870_FILE_SKIPPED", "no peer: set LIB60870_FILE_SERVER=/path/to/lib60870_file_server, or LIB60870_DIR="
        "/path/to/lib60870 (a v2.4.1 checkout) for Benchmarks/daemon/run to build it with "
        "scripts/build-lib60870-file-server")


def write_files(directory):
    """The served files, random octets, written once and kept (sizes checked); returns {name: (octets, sha256)}."""
    os.makedirs(directory, exist_ok=True)
    for entry in os.listdir(directory):
        if entry not in dict(FILES):
            os.remove(os.path.join(directory, entry))
    sources = {}
    base = time.time() - 3600
    for index, (name, size) in enumerate(FILES):
        path = os.path.join(directory, name)
        if not (os.path.isfile(path) and os.path.getsize(path) == size):
            with open(path + ".tmp", "wb") as out:
                left = size
                while left:
                    chunk = os.urandom(min(left, 1 << 20))
                    out.write(chunk)
                    left -= len(chunk)
            os.replace(path + ".tmp", path)
        # rtu104d gives the oldest file the lowest IOA: make the order that of FILES
        os.utime(path, (base + index, base + index))
        digest = hashlib.sha256()
        with open(path, "rb") as source:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
        sources[name] = (size, digest.hexdigest())
    return sources


def write_config(directory, port):
    with open(os.path.join(directory, "points.json"), "w", encoding="utf-8") as out:
        out.write('{"comment": "rtu104d benchmark, part files: 10 float points, CA 47, IOA 1..10",\n "points": [\n')
        out.write(",\n".join('{"ca":%d,"ioa":%d,"type":"float","time_tag":true}' % (CA, ioa) for ioa in range(1, 11)))
        out.write("\n ]\n}\n")
    conf = os.path.join(directory, "rtu104d.conf")
    with open(conf, "w", encoding="utf-8") as out:
        out.write(f"""; written by Benchmarks/daemon/file_transfer_cost.py
[daemon]
point_tables = points.json
state_directory = state
runtime_directory = run
log_level = info

[listener bench]
bind = 127.0.0.1:{port}
max_connections = 8

[station bench]
listener = bench
allow = 127.0.0.1
common_addresses = {CA}
k = 12
w = 8

[files records]
common_address = {CA}
ioa = {FIRST_IOA}-{FIRST_IOA + 9}
directory = records
""")
    return conf


def wait_listed(bench, log_path, timeout=15.0):
    """Until rtu104d's log says every file is listed (the first scan may come after the port opens)."""
    wanted = [f"listed at {CA}:{FIRST_IOA + i}" for i in range(len(FILES))]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(log_path, encoding="utf-8", errors="replace") as log:
                text = log.read()
        except OSError:
            text = ""
        if all(w in text for w in wanted):
            return True
        time.sleep(0.05)
    bench.log(f"  warning: rtu104d did not log every file as listed within {timeout:g} s (log {log_path})")
    return False


def get(bench, ctl, server, port, pid, ioa, name, expected, out_dir):
    octets, sha = expected
    out = os.path.join(out_dir, f"{server}-{name}")
    cmd = [ctl, "files", "get", f"127.0.0.1:{port}", f"{CA}:{ioa}", "--timeout", "30", "-o", out]
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = bench.cpu_seconds(pid)
    t0 = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    wall = time.monotonic() - t0
    cpu1 = bench.cpu_seconds(pid)
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    row = {"file": name, "ioa": ioa, "octets_expected": octets, "exit": done.returncode, "wall_s": round(wall, 4),
           "server_cpu_s": round(cpu1 - cpu0, 3),
           "ctl_cpu_s": round((children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime), 3)}
    match = None
    lines = done.stdout.strip().splitlines()
    if lines:
        match = DONE.match(lines[-1].strip())
    if done.returncode == 0 and match:
        got_octets, got_sha, seconds = int(match.group(4)), match.group(5), float(match.group(6))
        row.update(octets=got_octets, sha256_ok=got_sha == sha and got_octets == octets, seconds=seconds,
                   mb_per_s=round(got_octets / 1e6 / seconds, 3) if seconds > 0 else None,
                   wall_mb_per_s=round(got_octets / 1e6 / wall, 3))
        # the saved file, checked here too (rtu104ctl's sha256 is of the file as saved)
        digest = hashlib.sha256()
        with open(out, "rb") as saved:
            for chunk in iter(lambda: saved.read(1 << 20), b""):
                digest.update(chunk)
        row["sha256_ok"] = row["sha256_ok"] and digest.hexdigest() == sha
    else:
        row.update(ok=False, stdout=done.stdout[-500:], stderr=done.stderr[-500:])
    row["ok"] = bool(done.returncode == 0 and match and row.get("sha256_ok"))
    for path in (out, out + ".part"):
        try:
            os.remove(path)
        except OSError:
            pass
    return row


def describe(rows):
    ok = [r for r in rows if r["ok"]]
    if not ok:
        return "failed every run", None
    rate = statistics.median(r["mb_per_s"] for r in ok)
    text = (f"{rate:>7.2f} MB/s (runs {min(r['mb_per_s'] for r in ok):.2f}..{max(r['mb_per_s'] for r in ok):.2f}), "
            f"{statistics.median(r['seconds'] for r in ok):.3f} s, wall {statistics.median(r['wall_s'] for r in ok):.3f} s, "
            f"server CPU {statistics.median(r['server_cpu_s'] for r in ok):.2f} s, "
            f"rtu104ctl CPU {statistics.median(r['ctl_cpu_s'] for r in ok):.2f} s, {len(ok)}/{len(rows)} ok")
    return text, rate


def run(bench):
    peer, skipped = peer_path()
    servers = ["rtu104d"] + (["lib60870-C"] if peer else [])
    bench.log(f"\n== 9. File transfer (rtu104ctl files get, sections of {SECTION_SIZE:,} octets, "
              f"{bench.args.file_repeats} runs per file and server): {', '.join(servers)}"
              + ("; the two take turns run by run" if peer else ""))
    if not peer:
        bench.log(f"  lib60870-C file server skipped: {skipped}")
    ctl = ctl_path(bench)
    if not os.access(ctl, os.X_OK):
        raise RuntimeError(f"no rtu104ctl at {ctl} (build it: swift build -c release --product rtu104ctl)")
    base = os.path.join(bench.work, "files")
    os.makedirs(base, exist_ok=True)
    sources = write_files(os.path.join(base, "records"))
    out_dir = os.path.join(base, "out")
    os.makedirs(out_dir, exist_ok=True)

    # IOAs are given out afresh: no state of an earlier run
    shutil.rmtree(os.path.join(base, "state"), ignore_errors=True)
    procs = {}
    port = free_port()
    conf = write_config(base, port)
    proc, _ = bench.start([bench.daemon, "--config", conf], "rtu104d-files", port=port, timeout=60)
    procs["rtu104d"] = (proc, port)
    wait_listed(bench, os.path.join(bench.logs, "rtu104d-files.log"))
    if peer:
        peer_port = free_port()
        proc, _ = bench.start([peer, str(peer_port), os.path.join(base, "records"), str(CA), str(FIRST_IOA),
                               str(SECTION_SIZE)], "lib60870-file-server", ready="ready", port=peer_port, timeout=30)
        procs["lib60870-C"] = (proc, peer_port)

    rows = {(server, name): [] for server in servers for name, _ in FILES}
    try:
        for repeat in range(bench.args.file_repeats):
            for index, (name, _) in enumerate(FILES):
                # the servers take turns; the one going first alternates too
                order = servers if repeat % 2 == 0 else list(reversed(servers))
                for server in order:
                    proc, port = procs[server]
                    row = get(bench, ctl, server, port, proc.pid, FIRST_IOA + index, name, sources[name], out_dir)
                    rows[(server, name)].append(row)
                    bench.record("files_get", server, repeat=repeat + 1, section_size=SECTION_SIZE,
                                 binary=bench.daemon if server == "rtu104d" else peer, **row)
                    if not row["ok"]:
                        bench.log(f"  {server} {name} run {repeat + 1}: FAILED (exit {row['exit']}"
                                  f"{', sha256 mismatch' if row.get('sha256_ok') is False else ''}): "
                                  f"{(row.get('stderr') or '').strip()[-300:]}")
    finally:
        for proc, _ in procs.values():
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    summary = bench.summary.setdefault("files", {})
    for name, octets in FILES:
        entry = {"octets": octets}
        for server in servers:
            text, rate = describe(rows[(server, name)])
            bench.log(f"  {name:<11} {octets:>10,} octets  {server:<10} {text}")
            ok = [r for r in rows[(server, name)] if r["ok"]]
            entry[server] = {"mb_per_s": rate, "ok": len(ok), "runs": len(rows[(server, name)]),
                             "server_cpu_s": statistics.median(r["server_cpu_s"] for r in ok) if ok else None,
                             "seconds": statistics.median(r["seconds"] for r in ok) if ok else None}
        d, p = entry["rtu104d"].get("mb_per_s"), entry.get("lib60870-C", {}).get("mb_per_s")
        entry["ratio"] = d / p if d and p else None
        summary[name] = entry
        bench.record("files_summary", "rtu104d", file=name, octets=octets, repeats=bench.args.file_repeats,
                     section_size=SECTION_SIZE, median_mb_per_s=d, median_server_cpu_s=entry["rtu104d"]["server_cpu_s"],
                     lib60870_median_mb_per_s=p,
                     lib60870_median_server_cpu_s=entry.get("lib60870-C", {}).get("server_cpu_s"),
                     ratio_lib60870=round(entry["ratio"], 4) if entry["ratio"] else None,
                     lib60870_skipped=None if peer else skipped)
    if not peer:
        summary["skipped"] = skipped
    failed = sum(not r["ok"] for runs in rows.values() for r in runs)
    if failed:
        raise RuntimeError(f"file transfer: {failed} run(s) failed (exit status or sha256; see files_get lines)")


def table(bench):
    """The summary lines of this part (bench.table calls it when the part ran)."""
    f = bench.summary.get("files")
    if not f:
        return
    bench.log(f"{'file transfer':<24} {'rtu104d MB/s':>12} {'CPU s':>6} {'lib60870-C MB/s':>16} {'CPU s':>6} {'ratio':>6}")
    for name, entry in f.items():
        if name == "skipped":
            continue
        d, p = entry["rtu104d"], entry.get("lib60870-C")
        d_text = f"{d['mb_per_s']:.2f}" if d["mb_per_s"] else "failed"
        d_cpu = f"{d['server_cpu_s']:.2f}" if d["server_cpu_s"] is not None else "-"
        if p is None:
            p_text, p_cpu = "skipped", "-"
        else:
            p_text = f"{p['mb_per_s']:.2f}" if p["mb_per_s"] else "failed"
            p_cpu = f"{p['server_cpu_s']:.2f}" if p["server_cpu_s"] is not None else "-"
        ratio = f"{entry['ratio']:.2f}" if entry.get("ratio") else "-"
        bench.log(f"{name + ' (' + format(entry['octets'], ',') + ')':<24} {d_text:>12} {d_cpu:>6} {p_text:>16} "
                  f"{p_cpu:>6} {ratio:>6}")
    bench.log(f"(medians of {bench.args.file_repeats} `rtu104ctl files get` per file and server, MB = 10^6 octets, "
              f"sections of {SECTION_SIZE:,}; CPU: the server's over the transfer; ratio: rtu104d / lib60870-C)")
    if "skipped" in f:
        bench.log(f"(lib60870-C file server skipped: {f['skipped']})")
