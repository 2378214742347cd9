"""Fixtures for the interop suite: the real rtu104d binary on loopback ports, one per module.

- `daemon_factory(template, listeners)` writes configs/<template>.conf (with ${port_<listener>},
  ${points}, ${state}, ${runtime} substituted) into a tmp dir, starts the daemon with its log
  captured to a file, waits until every listener accepts connections, and stops it with SIGTERM
  at the end, asserting exit status 0. `configured_daemon` does the writing for modules that need
  more substitutions (the TLS ones: ${certs} from the session's `certs` fixture).
- Every test phase runs under an alarm (INTEROP_TEST_TIMEOUT seconds, default 30).
- A failing test gets the log of every daemon alive during it attached to its report.
"""

from __future__ import annotations

import os
import signal
import socket
import string
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

REPO = HERE.parent.parent
BINARY = Path(os.environ.get("RTU104D", REPO / ".build" / "debug" / "rtu104d"))


def _find_rtu104ctl() -> Path:
    """rtu104ctl: $RTU104CTL, else next to $RTU104D, else from `swift build --show-bin-path`."""
    if "RTU104CTL" in os.environ:
        return Path(os.environ["RTU104CTL"])
    candidate = BINARY.parent / "rtu104ctl"
    if candidate.exists():
        return candidate
    try:
        bin_path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=REPO, capture_output=True, text=True,
                                  timeout=60).stdout.strip()
        return Path(bin_path) / "rtu104ctl"
    except (OSError, subprocess.TimeoutExpired):
        return candidate


CTL = _find_rtu104ctl()
TEST_TIMEOUT = float(os.environ.get("INTEROP_TEST_TIMEOUT", "30"))
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

_running: list["Daemon"] = []


# MARK: time limit per test phase

class PhaseTimeout(Exception):
    pass


def _alarm(signum, frame):  # noqa: ARG001
    raise PhaseTimeout(f"test phase exceeded {TEST_TIMEOUT} s (INTEROP_TEST_TIMEOUT)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):  # noqa: ARG001
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _timed_phase():
    signal.setitimer(signal.ITIMER_REAL, TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):  # noqa: ARG001
    yield from _timed_phase()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):  # noqa: ARG001
    yield from _timed_phase()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):  # noqa: ARG001
    yield from _timed_phase()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ARG001
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for daemon in list(_running):
            report.sections.append((f"rtu104d log ({daemon.name}, {daemon.log_path})", daemon.log_tail()))


# Every daemon log of the session, for the check that no line shows Swift internals.
_started_logs: list[Path] = []

# What a Swift type dump looks like in a line: an operator must never read these (issue 13).
SWIFT_INTERNALS = ("IEC104.", "Optional(", "rawValue:", "Swift.")


def swift_internals(text: str) -> list[str]:
    """The lines of `text` that show a Swift type dump."""
    return [line for line in text.splitlines() if any(marker in line for marker in SWIFT_INTERNALS)]


@pytest.fixture(scope="session", autouse=True)
def no_swift_internals_in_logs():
    """After the whole session: no log line of any daemon the tests started shows Swift internals."""
    yield
    found = []
    for path in _started_logs:
        try:
            lines = swift_internals(path.read_text(errors="replace"))
        except FileNotFoundError:
            continue
        found += [f"{path}: {line}" for line in lines[:5]]
    if found:
        pytest.fail("log lines with Swift internals (IEC104., Optional(, rawValue:, Swift.):\n" + "\n".join(found[:40]))


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001
    """A daemon still running here lost its teardown (e.g. to a timeout): never leave it behind."""
    for daemon in list(_running):
        daemon.kill()
        _running.remove(daemon)


# MARK: the daemon

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Daemon:
    def __init__(self, name: str, directory: Path, ports: dict[str, int]):
        self.name = name
        self.directory = directory
        self.ports = ports
        self.config_path = directory / "rtu104d.conf"
        self.log_path = directory / "rtu104d.log"
        self.state_directory = directory / "state"
        self.runtime_directory = directory / "run"
        self.process: subprocess.Popen | None = None

    @property
    def port(self) -> int:
        """The port of the listener 'main'."""
        return self.ports["main"]

    @property
    def control_socket(self) -> Path:
        return self.runtime_directory / "control.sock"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 200) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def start(self) -> None:
        """Starts the daemon; a second start (a restart test) keeps the state directory and appends to the log."""
        self.state_directory.mkdir(exist_ok=True)
        self.runtime_directory.mkdir(exist_ok=True)
        # A socket file left by a killed daemon would look ready before the new one binds.
        self.control_socket.unlink(missing_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(BINARY), "--config", str(self.config_path), "--log-level", "debug",
                 "--state-directory", str(self.state_directory), "--runtime-directory", str(self.runtime_directory)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.directory)
        _running.append(self)
        if self.log_path not in _started_logs:
            _started_logs.append(self.log_path)
        deadline = time.monotonic() + START_TIMEOUT
        waiting = set(self.ports.values())
        while waiting:
            if self.process.poll() is not None:
                raise AssertionError(f"rtu104d exited with {self.process.returncode} during start-up:\n{self.log_text()}")
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"rtu104d did not accept connections on {sorted(waiting)} within "
                                     f"{START_TIMEOUT} s:\n{self.log_text()}")
            waiting = {port for port in waiting if not accepts(port)}
            if waiting:
                time.sleep(0.05)
        # The listeners accept in the kernel a moment before the control socket is bound (READY=1 waits for both).
        while not self.control_socket.exists():
            if self.process.poll() is not None:
                raise AssertionError(f"rtu104d exited with {self.process.returncode} during start-up:\n{self.log_text()}")
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"rtu104d did not create {self.control_socket} within {START_TIMEOUT} s:\n"
                                     f"{self.log_text()}")
            time.sleep(0.02)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def stop(self) -> None:
        """SIGTERM by PID; must exit 0 within STOP_TIMEOUT (SIGKILL only as a last resort, and a failure)."""
        assert self.process is not None
        try:
            if self.process.poll() is not None:
                raise AssertionError(f"rtu104d died during the tests with status {self.process.returncode}:\n"
                                     f"{self.log_tail()}")
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                status = self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"rtu104d did not stop within {STOP_TIMEOUT} s of SIGTERM; killed with "
                                     f"SIGKILL:\n{self.log_tail()}") from None
            assert status == 0, f"rtu104d exited with status {status} after SIGTERM:\n{self.log_tail()}"
        finally:
            if self in _running:
                _running.remove(self)


def configured_daemon(directory: Path, template: str, listeners: tuple[str, ...], name: str | None = None,
                      edit=lambda text: text, **substitutions: str) -> Daemon:
    """A daemon (not started) in `directory` with configs/<template>.conf: a free port for each listener, ${points},
    ${state} and ${runtime} filled in, and any other ${…} from `substitutions`; `edit` may change the text."""
    ports = {listener: free_port() for listener in listeners}
    daemon = Daemon(name or template, directory, ports)
    text = string.Template((HERE / "configs" / f"{template}.conf").read_text()).substitute(
        points=str(HERE / "configs"), state=str(daemon.state_directory), runtime=str(daemon.runtime_directory),
        **{f"port_{listener}": port for listener, port in ports.items()}, **substitutions)
    daemon.config_path.write_text(edit(text))
    return daemon


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> Path:
    """Throw-away CA, outstation and master certificates from scripts/make-certs, made once for the run."""
    directory = tmp_path_factory.mktemp("certs")
    subprocess.run([str(REPO / "scripts" / "make-certs"), str(directory)], check=True, capture_output=True)
    return directory


@pytest.fixture(scope="module")
def daemon_factory(tmp_path_factory):
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing; build it with `swift build --product rtu104d` (make interop does)")
    started: list[Daemon] = []

    def start(template: str, listeners: tuple[str, ...] = ("main",)) -> Daemon:
        daemon = configured_daemon(tmp_path_factory.mktemp(template), template, listeners)
        started.append(daemon)
        daemon.start()
        return daemon

    yield start
    problems = []
    for daemon in started:
        try:
            daemon.stop()
        except AssertionError as error:
            problems.append(f"{daemon.name}: {error}")
    if problems:
        pytest.fail("\n".join(problems))
