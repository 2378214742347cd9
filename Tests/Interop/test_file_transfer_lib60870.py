"""File transfer (IEC 60870-5-101 7.4.11, monitor direction) against a third-party outstation: lib60870-C's
file service (CS101_FileServer), in our small peer Tests/Interop/peers/lib60870_file_server.c.

Skipped unless LIB60870_SRC names a lib60870 checkout (tag v2.4.1; the library is never vendored). The peer
is then built once into .build/interop-peers/ (scripts/build-lib60870-file-server; rebuilt when its source or
the script is newer) and serves a temporary directory of random files: 0 B, 1 B, 236 B (one segment), 16384 B
(exactly one section), 100,000 B (many sections) and 1 MiB.

- Our raw-socket master (FileMaster, below) fetches every file: it checks the peer and the wire procedure
  independently of rtu104ctl (select, call file, call section, segments, last segment, section and file acks).
- `rtu104ctl files get 127.0.0.1 --port P 1:IOA -o OUT` fetches every file: exit 0, OUT's sha256 is the
  source's; an IOA of the file area with no file, and one outside it, exit non-zero and leave no OUT (nor OUT.part).

lib60870-C 2.4.1's file server, as this test met it (docs/interoperability.md has the whole list): it never
answers call directory; it echoes the select's NOF (0 here); an empty file is section 1 of length 0, which the
master skips with a call section with P/N=1; the closing F_LS_NA_1 names the section after the last one; it
serves one transfer at a time for the whole server and drops one after 3 s without a master step, ignoring
every select until then.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import iec104
from conftest import CTL, REPO, free_port
from filemaster import F_SC_NA_1, FileMaster, FileTransferError, file_call

LIB60870_SRC = os.environ.get("LIB60870_SRC", "")
pytestmark = pytest.mark.skipif(
    not LIB60870_SRC,
    reason="LIB60870_SRC is not set: the lib60870 file-transfer interop test needs a lib60870-C checkout "
           "(tag v2.4.1), e.g. LIB60870_SRC=/path/to/lib60870 make interop (docs/interoperability.md)")

PEER_SOURCE = Path(__file__).resolve().parent / "peers" / "lib60870_file_server.c"
BUILD_SCRIPT = REPO / "scripts" / "build-lib60870-file-server"
PEER_BINARY = REPO / ".build" / "interop-peers" / "lib60870_file_server"
CA = 1
FIRST_IOA = 30001
SECTION_SIZE = 16384
# Name → size; sorted by name, so the peer gives them IOA 30001, 30002, … in this order.
FILES = {"a-empty.bin": 0, "b-one.bin": 1, "c-segment.bin": 236, "d-section.bin": 16384, "e-sections.bin": 100_000,
         "f-mebibyte.bin": 1_048_576}
IOA_OF = {name: FIRST_IOA + index for index, name in enumerate(sorted(FILES))}
NO_FILE_IOA = FIRST_IOA + len(FILES)       # inside the peer's file area (100 IOAs): "file not ready"
OUTSIDE_IOA = FIRST_IOA + 500              # outside it: COT 47
CTL_TIMEOUT = 60.0  # 1 MiB takes ~7 s here with an S-frame per I-frame, ~13 s with one per 8

M_ME_NB_1 = 11


# MARK: the peer

@pytest.fixture(scope="session")
def peer_binary() -> Path:
    """The peer, built at most once per session; reused while newer than its source and the build script."""
    source = Path(LIB60870_SRC)
    if not (source / "lib60870-C" / "src" / "file-service" / "file_server.c").exists():
        pytest.fail(f"LIB60870_SRC={LIB60870_SRC} is not a lib60870 checkout (no lib60870-C/src/file-service)")
    allow_seconds(330)  # the first build of lib60870-C takes ~10 s on an idle machine, more under load
    newest_input = max(PEER_SOURCE.stat().st_mtime, BUILD_SCRIPT.stat().st_mtime)
    if not PEER_BINARY.exists() or PEER_BINARY.stat().st_mtime < newest_input:
        result = subprocess.run([str(BUILD_SCRIPT), str(source), str(PEER_BINARY), str(PEER_SOURCE)],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"building the lib60870 peer failed:\n{result.stdout}\n{result.stderr}"
    return PEER_BINARY


@dataclass
class Peer:
    port: int
    directory: Path
    process: subprocess.Popen
    log_path: Path
    files: dict[str, bytes] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture(scope="module")
def peer(peer_binary, tmp_path_factory):
    """The peer on a free loopback port, serving FILES of random content; stopped by its PID (SIGTERM → exit 0)."""
    directory = tmp_path_factory.mktemp("lib60870-files")
    served = directory / "served"
    served.mkdir()
    files = {}
    for name, size in FILES.items():
        files[name] = os.urandom(size)
        (served / name).write_bytes(files[name])
    (served / ".hidden").write_bytes(b"never listed")
    (served / "subdirectory").mkdir()
    port = free_port()
    log_path = directory / "peer.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(peer_binary), str(port), str(served), str(CA), str(FIRST_IOA),
                                    str(SECTION_SIZE)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=log)
    running = Peer(port, served, process, log_path, files)
    try:
        ready = _read_ready(process, timeout=10.0)
        assert ready, f"the lib60870 peer did not print 'ready' (status {process.poll()}):\n{running.log()}"
        yield running
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                status = process.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(5)
                pytest.fail(f"the lib60870 peer did not stop within 5 s of SIGTERM:\n{running.log()}")
            assert status == 0, f"the lib60870 peer exited with {status} after SIGTERM:\n{running.log()}"
        if process.stdout:
            process.stdout.close()


def _read_ready(process: subprocess.Popen, timeout: float) -> bool:
    import selectors
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            if not selector.select(max(deadline - time.monotonic(), 0.01)):
                continue
            chunk = os.read(process.stdout.fileno(), 1)
            if not chunk:
                return False
            line += chunk
        return line.strip() == b"ready"


# MARK: the peer, checked with our raw master

def test_general_interrogation_and_periodic_events(peer):
    with FileMaster(peer.port) as master:
        master.start_dt()
        replies = master.request(iec104.gi(CA), until_cause=iec104.COT_ACTTERM)
        assert replies[0].cause == iec104.COT_ACTCON and replies[-1].cause == iec104.COT_ACTTERM
        periodic = master.until(lambda asdu: asdu.type_id == M_ME_NB_1 and asdu.cause == iec104.COT_PERIODIC, 3.0)
        assert periodic


@pytest.mark.parametrize("name", sorted(FILES))
def test_raw_master_gets_the_file(peer, name):
    with FileMaster(peer.port) as master:
        master.start_dt()
        transfer = master.get(CA, IOA_OF[name])
    size = FILES[name]
    assert transfer.data == peer.files[name]
    sections = -(-size // SECTION_SIZE)
    if size == 0:
        # An empty file is section 1 of length 0, skipped with P/N=1; the closing F_LS_NA_1 names section 2.
        assert transfer.sections == [(1, 0)] and transfer.last_nos == 2
    else:
        assert [nos for nos, _ in transfer.sections] == list(range(1, sections + 1))
        assert sum(length for _, length in transfer.sections) == size
        # lib60870 names the section after the last one in the closing F_LS_NA_1.
        assert transfer.last_nos == sections + 1
        assert transfer.segments == sum(-(-length // 236) for _, length in transfer.sections)
    assert transfer.nof == 0  # lib60870 echoes the NOF of the select (0 = any), not the provider's
    if transfer.seconds > 1.0:  # the 1 MiB file: the periodic M_ME_NB_1 keeps coming during the transfer
        assert transfer.events > 0, f"no M_ME_NB_1 in {transfer.seconds:.1f} s of transfer"


def test_lib60870_never_answers_call_directory(peer):
    """What rtu104ctl's `files list` meets here: silence (lib60870-C 2.4.1 has call directory as a TODO)."""
    with FileMaster(peer.port) as master:
        master.start_dt()
        master.send_asdu(file_call(CA, 0, 0, 0, 0, cause=iec104.COT_REQUEST))
        replies = master.collect(1.0)
    assert [a for a in replies if a.type_id != M_ME_NB_1] == []


def test_raw_master_refusals(peer):
    with FileMaster(peer.port) as master:
        master.start_dt()
        with pytest.raises(FileTransferError, match="not ready"):
            master.get(CA, NO_FILE_IOA)
        with pytest.raises(FileTransferError, match="COT 47 P/N"):
            master.get(CA, OUTSIDE_IOA)
        with pytest.raises(FileTransferError, match="COT 46 P/N"):
            master.get(CA + 1, IOA_OF["b-one.bin"])


# MARK: rtu104ctl files get

@pytest.fixture(scope="module")
def ctl():
    if not CTL.exists():
        pytest.skip(f"{CTL} is missing; build it with `swift build --product rtu104ctl`")
    return CTL


def files_get(ctl: Path, port: int, ioa: int, output: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(ctl), "files", "get", "127.0.0.1", "--port", str(port), f"{CA}:{ioa}", "-o",
                           str(output), "--timeout", "30"], capture_output=True, text=True, timeout=CTL_TIMEOUT)


def allow_seconds(seconds: float) -> None:
    """Raises this test phase's time limit (conftest, INTEROP_TEST_TIMEOUT) to `seconds` if it is lower."""
    remaining = signal.getitimer(signal.ITIMER_REAL)[0]
    if 0 < remaining < seconds:
        signal.setitimer(signal.ITIMER_REAL, seconds)


@pytest.mark.parametrize("name", sorted(FILES))
def test_rtu104ctl_files_get(ctl, peer, tmp_path, name):
    allow_seconds(CTL_TIMEOUT + 10)
    output = tmp_path / f"copy-{name}"
    result = files_get(ctl, peer.port, IOA_OF[name], output)
    if result.returncode != 0:
        # lib60870 ignores every select until a broken transfer has timed out (3 s): spare the next test.
        time.sleep(3.5)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\npeer log:\n{peer.log()[-3000:]}"
    assert hashlib.sha256(output.read_bytes()).hexdigest() == hashlib.sha256(peer.files[name]).hexdigest()
    assert not Path(f"{output}.part").exists()
    # The summary line (`CA:IOA NOF n: N octets, sha256 …, in T s`); the file's content is checked above.
    assert f"{CA}:{IOA_OF[name]}" in result.stdout and f"{FILES[name]} octets" in result.stdout, result.stdout


@pytest.mark.parametrize("ioa", [NO_FILE_IOA, OUTSIDE_IOA], ids=["no-file-in-area", "outside-area"])
def test_rtu104ctl_files_get_without_a_file(ctl, peer, tmp_path, ioa):
    output = tmp_path / "nothing"
    result = files_get(ctl, peer.port, ioa, output)
    assert result.returncode != 0, result.stdout
    assert result.stderr.strip(), "no message for a refused file"
    assert not output.exists() and not Path(f"{output}.part").exists()
