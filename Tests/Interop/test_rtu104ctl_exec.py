"""rtu104ctl against the real daemon's control socket: --version of both binaries, `exec` (a command point's
handler run without a master, through the daemon's own command handler), and the edges of set/get/watch/status.

Every daemon here is started and stopped by PID by the tests; everything is loopback and bounded in time.
"""

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BINARY, REPO, Daemon, free_port
from test_rtu104ctl_master import CTL

TIMEOUT = 20

EVIDENCE_SCRIPT = """#!/bin/sh
# Records what it was given; reports the commanded state on the feedback point for an execute.
n=$(ls "$EVIDENCE" | wc -l)
env | grep '^RTU104_' | sort > "$EVIDENCE/$RTU104_IOA-$n.txt"
[ "$RTU104_SELECT" = 1 ] && exit 0
[ -n "$RTU104_FEEDBACK" ] && printf '{"point":"%s","value":"%s"}\\n' "$RTU104_FEEDBACK" "$RTU104_VALUE"
exit 0
"""

CONFIG = """
[daemon]
point_tables = points.json
state_directory = {directory}/state
runtime_directory = {directory}/run

[handler evidence]
exec = {directory}/evidence.sh
environment = EVIDENCE={directory}/evidence
timeout = 5s

[handler fails]
exec = /bin/sh
args = -c, exit 3

[listener main]
bind = 127.0.0.1:{port}

[station local-tools]
allow = 127.0.0.0/8
common_addresses = 47
"""

POINTS = [
    {"ioa": 1001, "type": "single"},
    {"ioa": 1102, "type": "double", "value": "off"},
    {"ioa": 3001, "type": "float"},
    {"ioa": 2001, "command": "single", "sbo": "no", "feedback": 1001},
    {"ioa": 2102, "command": "double", "sbo": "required", "feedback": 1102, "handler": "evidence"},
    {"ioa": 2801, "command": "single", "handler": "fails"},
]

VERSION = re.compile(r"^(rtu104d|rtu104ctl) (\d+\.\d+\.\d+)( \(commit ([0-9a-f]{7})\))?$")


def make_daemon(directory: Path) -> Daemon:
    daemon = Daemon("exec", directory, {"main": free_port()})
    (directory / "evidence").mkdir()
    (directory / "evidence.sh").write_text(EVIDENCE_SCRIPT)
    (directory / "evidence.sh").chmod(0o755)
    (directory / "points.json").write_text(json.dumps({"points": [{"ca": 47, **point} for point in POINTS]}))
    daemon.config_path.write_text(CONFIG.format(directory=directory, port=daemon.port))
    daemon.start()
    return daemon


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    if not CTL.exists():
        pytest.skip(f"{CTL} is missing; build it with `swift build --product rtu104ctl`")
    instance = make_daemon(tmp_path_factory.mktemp("exec"))
    yield instance
    instance.stop()


def ctl(daemon: Daemon, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CTL), *arguments, "--socket", str(daemon.control_socket)], capture_output=True,
                          text=True, timeout=TIMEOUT)


def evidence(daemon: Daemon, ioa: int) -> list[dict[str, str]]:
    files = sorted((daemon.directory / "evidence").glob(f"{ioa}-*.txt"), key=lambda p: int(p.stem.split("-")[1]))
    return [dict(line.split("=", 1) for line in file.read_text().splitlines()) for file in files]


@pytest.mark.parametrize("binary", ["rtu104d", "rtu104ctl"])
def test_version(binary):
    path = BINARY if binary == "rtu104d" else CTL
    if not path.exists():
        pytest.skip(f"{path} is missing")
    result = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    match = VERSION.match(result.stdout.strip())
    assert match and match.group(1) == binary, result.stdout
    if (REPO / ".git").exists():
        # Built from a checkout: the commit is the one HEAD names (the interop run builds before it tests).
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=TIMEOUT).stdout.strip()
        assert match.group(4) and head.startswith(match.group(4)), (result.stdout, head)


def test_status_shows_version_and_json_keeps_slashes(daemon):
    text = ctl(daemon, "status")
    assert text.returncode == 0, text.stderr
    version = subprocess.run([str(CTL), "--version"], capture_output=True, text=True, timeout=TIMEOUT).stdout.split(" ", 1)[1]
    assert text.stdout.splitlines()[0] == f"rtu104d {version.strip()}"
    raw = ctl(daemon, "status", "--json")
    assert raw.returncode == 0, raw.stderr
    assert json.loads(raw.stdout)["version"] == version.strip()
    assert "127.0.0.0/8" in raw.stdout and "\\/" not in raw.stdout


def test_exec_select_before_operate_runs_the_handler_and_reports_return_information(daemon):
    watcher = subprocess.Popen([str(CTL), "watch", "--json", "--count", "1", "--socket", str(daemon.control_socket)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)  # the watch is subscribed once its confirmation is back; give it that long
        result = ctl(daemon, "exec", "47:2102", "on", "--select")
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        assert re.match(r"^47:2102 C_DC_NA_1 on: select positive \([\d.]+ ms\), execute positive \([\d.]+ ms\)$",
                        lines[0]), result.stdout
        assert re.match(r"^feedback 47:1102 +double +on +good ", lines[1]), result.stdout
        watched, _ = watcher.communicate(timeout=TIMEOUT)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait(5)
    assert watcher.returncode == 0
    event = json.loads(watched.splitlines()[-1])["event"]
    assert (event["ioa"], event["value"], event["cot"]) == (1102, "on", 11)  # retrem, as for a master's command
    calls = evidence(daemon, 2102)
    assert [call["RTU104_SELECT"] for call in calls] == ["1", "0"]
    assert all(call["RTU104_STATION"] == "rtu104ctl" and call["RTU104_FEEDBACK"] == "47:1102" for call in calls)


def test_exec_builtin_feedback_handler(daemon):
    result = ctl(daemon, "exec", "47:2001", "on")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "execute positive" in result.stdout and re.search(r"feedback 47:1001 +single +on ", result.stdout)


def test_exec_negative_handler(daemon):
    result = ctl(daemon, "exec", "47:2801", "on")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "execute negative" in result.stdout
    assert result.stderr.startswith("rtu104ctl: negative: ")
    # The operator's command is logged like a master's: who and what, and the outcome.
    def logged() -> bool:
        return any("exec from the control socket: 47:2801 C_SC_NA_1 on: execute negative" in line
                   and "station=rtu104ctl" in line and "ioa=2801" in line for line in daemon.log_text().splitlines())
    deadline = time.monotonic() + 5
    while not logged() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert logged(), daemon.log_tail()


@pytest.mark.parametrize(("arguments", "message"), [
    (("47:2102", "on"), "47:2102 requires select-before-operate; add select"),
    (("47:2001", "on", "--select"), "47:2001 does not take select-before-operate; leave out select"),
    (("47:1001", "on"), "47:1001 is not a command point (it is a monitor point; exec only takes command points)"),
    (("47:9999", "on"), "no point 47:9999"),
    (("47:2102", "sideways", "--select"), "'sideways' is not a value for 47:2102 (C_DC_NA_1); use on/off"),
])
def test_exec_refusals_name_the_point_and_why(daemon, arguments, message):
    result = ctl(daemon, "exec", *arguments)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip() == f"rtu104ctl: {message}"


def test_exec_usage_error(daemon):
    result = ctl(daemon, "exec", "2102", "on")
    assert result.returncode == 64
    assert "'2102' is not CA:IOA" in result.stderr and "rtu104ctl exec" in result.stderr


@pytest.mark.parametrize(("assignment", "message"), [
    ("47:2001=1", "47:2001 is not a monitor point (it is a command point; set only takes monitor points)"),
    ("47:9999=1", "no point 47:9999"),
])
def test_set_names_the_point_and_why(daemon, assignment, message):
    result = ctl(daemon, "set", assignment)
    assert result.returncode == 1
    assert result.stderr.strip() == f"rtu104ctl: {message}"


def test_get_names_the_point_and_why(daemon):
    result = ctl(daemon, "get", "47:2001")
    assert result.returncode == 1
    assert result.stderr.strip() == \
        "rtu104ctl: 47:2001 is not a monitor point (it is a command point; get only takes monitor points)"


def test_set_without_value_is_a_usage_error_of_set(daemon):
    result = ctl(daemon, "set", "47:1001")
    assert result.returncode == 64
    assert "'47:1001' is not CA:IOA=VALUE" in result.stderr
    assert "Usage: rtu104ctl set " in result.stderr


def test_get_prints_a_header_and_float_values_as_set(daemon):
    assert ctl(daemon, "set", "47:3001=82.3").returncode == 0
    result = ctl(daemon, "get", "47:3001")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split() == ["POINT", "TYPE", "VALUE", "QUALITY", "TIME", "(UTC)", "NAME"]
    assert row.split()[:4] == ["47:3001", "float", "82.3", "good"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row.split()[4])


def test_watch_fails_when_the_daemon_goes_away(tmp_path):
    if not CTL.exists():
        pytest.skip(f"{CTL} is missing")
    daemon = make_daemon(tmp_path)
    watcher = subprocess.Popen([str(CTL), "watch", "--socket", str(daemon.control_socket)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        daemon.stop()
        out, err = watcher.communicate(timeout=TIMEOUT)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait(5)
    assert watcher.returncode == 2, (out, err)
    assert out.startswith("COT      POINT")
    assert "rtu104d closed the control connection" in err


def compare(daemon: Daemon, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CTL), "compare", f"127.0.0.1:{daemon.port}", "--ca", "47", *arguments],
                          capture_output=True, text=True, timeout=TIMEOUT)


def test_compare_reads_ini_tables_and_the_daemons_config(daemon, tmp_path):
    # The daemon's own table: the float point may have been set by another test, so values are not compared.
    by_config = compare(daemon, "--config", str(daemon.config_path), "--ignore-values")
    assert by_config.returncode == 0, by_config.stdout + by_config.stderr
    assert "3 point(s) in the table" in by_config.stdout and "everything matches" in by_config.stdout
    table = tmp_path / "expected.ini"
    table.write_text("[point 47:1001]\ntype = single\n\n[point 47:1102]\ntype = double\nvalue = intermediate\n"
                     "\n[point 47:3001]\ntype = float\n")
    by_ini = compare(daemon, "--table", str(table), "--ignore-quality")
    assert by_ini.returncode == 1, by_ini.stdout + by_ini.stderr
    assert any(line.startswith("wrong value") and "47:1102" in line and "expected intermediate" in line
               for line in by_ini.stdout.splitlines()), by_ini.stdout


def test_compare_table_errors_name_file_and_line(daemon, tmp_path):
    table = tmp_path / "broken.ini"
    table.write_text("[point 47:1001]\ntype = singel\n")
    result = compare(daemon, "--table", str(table))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{table}:2" in result.stderr and "not valid JSON" not in result.stderr
    neither = compare(daemon)
    assert neither.returncode == 64 and "--table FILE or --config FILE" in neither.stderr


def test_command_prints_return_information_before_actterm(daemon):
    result = subprocess.run([str(CTL), "command", f"127.0.0.1:{daemon.port}", "47:2102", "off", "--type", "double",
                             "--select"], capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    feedback = [i for i, line in enumerate(lines) if re.search(r"return information 47:1102 M_DP_(NA|TB)_1 off \(retrem\)$", line)]
    actterm = [i for i, line in enumerate(lines) if "ACTTERM positive" in line]
    assert feedback and actterm and feedback[0] < actterm[0], result.stdout


def test_check_prints_each_warning_once(tmp_path):
    if not BINARY.exists():
        pytest.skip(f"{BINARY} is missing")
    (tmp_path / "points.json").write_text(json.dumps({"points": [{"ca": 47, "ioa": 1, "type": "single"}]}))
    config = tmp_path / "rtu104d.conf"
    config.write_text("[daemon]\npoint_tables = points.json\n[listener main]\nbind = 127.0.0.1:2404\n"
                      "[station scada]\nallow = 127.0.0.1\ncommon_addresses = 47, 99\n")
    result = subprocess.run([str(BINARY), "--check", "--config", str(config)], capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert output.count("common address 99 has no points") == 1, output
    assert "warning: warning" not in output and "warning:" in output
    # With an error as well: the warning once, on standard error, with one "warning:".
    config.write_text(config.read_text().replace("points.json", "missing.json"))
    failed = subprocess.run([str(BINARY), "--check", "--config", str(config)], capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert failed.returncode == 1
    warnings = [line for line in failed.stderr.splitlines() if "common address 99 has no points" in line]
    assert len(warnings) == 1 and warnings[0].count("warning:") == 1, failed.stderr
