"""File transfer from rtu104d (IEC 60870-5-101 7.4.11, monitor direction), configs/files.conf: two [files] areas
on CA 47 — `records` (IOA 30001-30099, sections of 16384 octets) and `outbox` (IOA 31001-31009, *.dat, NOF 2,
delete allowed) — each in a temporary directory, scanned every 200 ms.

- Our raw-socket master (filemaster.py) lists the directory and fetches files of 0 B, 1 B, 236 B (one segment),
  16384 B (one section), 100,000 B (many sections) and 1 MiB; the content, each section's and the file's
  checksum and the section lengths are checked, and events (control-socket `set`) and a GI keep coming meanwhile.
- A new file is announced spontaneously (F_DR_TA_1, COT 3); a file that changes during a transfer breaks it off
  with F_LS_NA_1 "file transfer with deactivation"; a master deletes where the area allows it, and only there.
- `rtu104ctl files list` and `rtu104ctl files get` against the same daemon: sha256-identical copies.
Every wait is bounded; everything runs on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

import iec104
from conftest import CTL, configured_daemon
from filemaster import (COT_FILE, F_AF_NA_1, F_DR_TA_1, F_FR_NA_1, F_LS_NA_1, F_SC_NA_1, F_SR_NA_1, F_SG_NA_1,
                        FileMaster, FileTransferError, directory_entries, file_ack, file_call)
from test_spontaneous import control, set_points

CA = 47
SECTION_SIZE = 16384
# Name → size. Modification times follow the names, so the files take IOA 30001, 30002, … in this order.
FILES = {"a-empty.bin": 0, "b-one.bin": 1, "c-segment.bin": 236, "d-section.bin": 16384, "e-sections.bin": 100_000,
         "f-mebibyte.bin": 1_048_576}
IOA_OF = {name: 30001 + index for index, name in enumerate(sorted(FILES))}
CTL_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def areas(tmp_path_factory):
    base = tmp_path_factory.mktemp("file-areas")
    records, outbox = base / "records", base / "outbox"
    records.mkdir()
    outbox.mkdir()
    contents = {}
    for index, (name, size) in enumerate(sorted(FILES.items())):
        contents[name] = os.urandom(size)
        (records / name).write_bytes(contents[name])
        os.utime(records / name, (1_760_000_000 + index, 1_760_000_000 + index))
    (records / ".partial").write_bytes(b"a dot file is never listed")
    (records / "subdirectory").mkdir()
    return records, outbox, contents


@pytest.fixture(scope="module")
def daemon(areas, tmp_path_factory):
    records, outbox, _ = areas
    daemon = configured_daemon(tmp_path_factory.mktemp("files"), "files", ("main",), records=str(records),
                               outbox=str(outbox))
    daemon.start()
    try:
        # The first scan runs at start; wait until the log says every file is listed.
        deadline = time.monotonic() + 10.0
        while daemon.log_text().count("listed at 47:") < len(FILES):
            assert time.monotonic() < deadline, daemon.log_tail()
            time.sleep(0.05)
        yield daemon
    finally:
        daemon.stop()


def logged(daemon, text: str, timeout: float = 5.0) -> bool:
    """Whether the daemon's log says `text` within `timeout` (the log line follows the wire by a moment)."""
    deadline = time.monotonic() + timeout
    while text not in daemon.log_text():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def started(daemon) -> FileMaster:
    master = FileMaster(daemon.port)
    master.start_dt()
    return master


# MARK: the raw master

def test_directory_lists_every_file_in_address_order(daemon, areas):
    with started(daemon) as master:
        entries = master.directory(CA)
    assert entries is not None
    assert [entry.ioa for entry in entries] == [IOA_OF[name] for name in sorted(FILES)]
    assert [entry.lof for entry in entries] == [FILES[name] for name in sorted(FILES)]
    assert all(entry.nof == 1 for entry in entries)
    assert [entry.last for entry in entries] == [False] * (len(FILES) - 1) + [True]
    assert [entry.modified_ms for entry in entries] == [(1_760_000_000 + i) * 1000 for i in range(len(FILES))]


@pytest.mark.parametrize("name", sorted(FILES))
def test_raw_master_gets_the_file(daemon, areas, name):
    _, _, contents = areas
    with started(daemon) as master:
        transfer = master.get(CA, IOA_OF[name])
    size = FILES[name]
    assert transfer.data == contents[name]
    assert transfer.nof == 1
    sections = max(1, -(-size // SECTION_SIZE))
    assert [nos for nos, _ in transfer.sections] == list(range(1, sections + 1))
    assert [length for _, length in transfer.sections][:-1] == [SECTION_SIZE] * (sections - 1)
    assert sum(length for _, length in transfer.sections) == size
    assert transfer.last_nos == sections  # rtu104d names the last section in the closing F_LS_NA_1
    assert transfer.segments == sum(-(-length // 236) for _, length in transfer.sections)
    octets = "1 octet" if size == 1 else f"{size} octets"
    assert logged(daemon, f"47:{IOA_OF[name]} records/{name} complete, {octets} in "), daemon.log_tail()


def test_events_and_a_general_interrogation_flow_during_a_transfer(daemon, areas):
    _, _, contents = areas
    stop = threading.Event()
    sent = []

    def produce():
        value = 100.0
        while not stop.is_set() and len(sent) < 400:
            value += 1.0
            set_points(daemon, {"ca": CA, "ioa": 3202, "value": value})
            sent.append(value)
            time.sleep(0.005)

    with started(daemon) as master:
        producer = threading.Thread(target=produce)
        producer.start()
        try:
            master.send_asdu(iec104.gi(CA))
            transfer = master.get(CA, IOA_OF["f-mebibyte.bin"])
        finally:
            stop.set()
            producer.join(10)
        rest = master.collect(1.0)
    assert transfer.data == contents["f-mebibyte.bin"]
    others = master.others + rest
    causes = [asdu.cause for asdu in others if asdu.type_id == iec104.C_IC_NA_1]
    assert causes == [iec104.COT_ACTCON, iec104.COT_ACTTERM], causes
    gi_objects = [asdu for asdu in master.others if asdu.cause == iec104.COT_INTERROGATED]
    assert gi_objects, "the GI's replies came during the transfer"
    spontaneous = [obj.value for asdu in others if asdu.cause == iec104.COT_SPONTANEOUS for obj in asdu.objects
                   if obj.ioa == 3202]
    assert transfer.events > 0 and len(spontaneous) > 10, f"{transfer.events} events during {transfer.seconds:.1f} s"
    assert spontaneous == sorted(spontaneous), "events kept their order"
    assert spontaneous[-1] == sent[-1], "the last value set arrived"


def test_a_new_file_is_announced_and_a_removed_one_leaves(daemon, areas):
    records, _, _ = areas
    with started(daemon) as master:
        # Written under a dot name and renamed, as a recorder should: never listed half-written.
        (records / ".g-new.bin.tmp").write_bytes(b"x" * 500)
        os.rename(records / ".g-new.bin.tmp", records / "g-new.bin")
        announced = master.until(lambda a: a.type_id == F_DR_TA_1 and a.cause == iec104.COT_SPONTANEOUS, 5.0)
        entries = [entry for asdu in announced if asdu.type_id == F_DR_TA_1 for entry in directory_entries(asdu)]
        new = [entry for entry in entries if entry.lof == 500]
        assert len(new) == 1 and new[0].ioa == 30001 + len(FILES), entries
        assert entries[-1].last
        (records / "g-new.bin").unlink()
        gone = master.until(lambda a: a.type_id == F_DR_TA_1 and a.cause == iec104.COT_SPONTANEOUS, 5.0)
        after = [entry for asdu in gone if asdu.type_id == F_DR_TA_1 for entry in directory_entries(asdu)]
        assert all(entry.lof != 500 for entry in after) and len(after) == len(FILES)
    assert logged(daemon, f"records/g-new.bin listed at 47:{30001 + len(FILES)}, 500 octets"), daemon.log_tail()
    assert logged(daemon, "records/g-new.bin at 47:30007 is gone from the directory"), daemon.log_tail()


def test_a_file_that_changes_during_the_transfer_is_broken_off(daemon, areas):
    records, _, _ = areas
    path = records / "h-changing.bin"
    path.write_bytes(os.urandom(50_000))
    with started(daemon) as master:
        ioa = next(e.ioa for e in master_directory_until(master, lambda e: e.lof == 50_000))
        master.send_asdu(file_call(CA, ioa, 0, 0, 1))
        assert master.file_asdu(CA, ioa, 5.0).type_id == F_FR_NA_1
        master.send_asdu(file_call(CA, ioa, 1, 0, 2))
        offered = master.file_asdu(CA, ioa, 5.0)
        assert offered.type_id == F_SR_NA_1 and offered.raw[11] == 1
        # The recorder appends while the master is between steps.
        with open(path, "ab") as file:
            file.write(b"more")
        broken = master.file_asdu(CA, ioa, 5.0)
        assert broken.type_id == F_LS_NA_1 and broken.raw[12] == 2, f"LSQ 2 expected: {broken}"
        # The transfer is over: calling its section is refused (COT 13, P/N=1).
        master.send_asdu(file_call(CA, ioa, 1, 1, 6))
        refused = master.file_asdu(CA, ioa, 5.0)
        assert refused.type_id == F_SC_NA_1 and refused.cause == COT_FILE and refused.negative
    assert logged(daemon, "records/h-changing.bin broken off: the file changed during the transfer"), daemon.log_tail()
    path.unlink()


def master_directory_until(master: FileMaster, wanted, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        entries = master.directory(CA) or []
        if any(wanted(entry) for entry in entries):
            return [entry for entry in entries if wanted(entry)]
        assert time.monotonic() < deadline, f"no such entry: {entries}"
        time.sleep(0.2)


def test_sections_larger_than_a_read_piece(daemon, areas):
    """outbox has the default section_size, 65536: each section is read in two pieces (about 64 KiB at most in
    memory) and still arrives as one section with one checksum."""
    _, outbox, _ = areas
    content = os.urandom(200_000)
    (outbox / "large.dat").write_bytes(content)
    try:
        with started(daemon) as master:
            [entry] = master_directory_until(master, lambda e: e.lof == 200_000)
            transfer = master.get(CA, entry.ioa)
        assert transfer.data == content
        assert transfer.sections == [(1, 65536), (2, 65536), (3, 65536), (4, 200_000 - 3 * 65536)]
        assert transfer.nof == 2
    finally:
        (outbox / "large.dat").unlink()


def test_delete_only_where_the_area_allows_it(daemon, areas):
    records, outbox, _ = areas
    (outbox / "log-1.dat").write_bytes(b"delete me")
    (outbox / "ignored.txt").write_bytes(b"not *.dat")
    with started(daemon) as master:
        [entry] = master_directory_until(master, lambda e: e.ioa >= 31001 and e.lof == 9)
        assert entry.nof == 2
        master.send_asdu(file_call(CA, entry.ioa, 2, 0, 1))
        assert master.file_asdu(CA, entry.ioa, 5.0).type_id == F_FR_NA_1
        master.send_asdu(file_call(CA, entry.ioa, 2, 0, 4))
        ack = master.file_asdu(CA, entry.ioa, 5.0)
        assert ack.type_id == F_AF_NA_1 and ack.raw[12] == 1, ack
        assert not (outbox / "log-1.dat").exists()
        assert (outbox / "ignored.txt").exists()

        ioa = IOA_OF["b-one.bin"]
        master.send_asdu(file_call(CA, ioa, 0, 0, 1))
        assert master.file_asdu(CA, ioa, 5.0).type_id == F_FR_NA_1
        master.send_asdu(file_call(CA, ioa, 1, 0, 4))
        refused = master.file_asdu(CA, ioa, 5.0)
        assert refused.type_id == F_AF_NA_1 and refused.raw[12] == 0x32, f"negative, cause 3: {refused}"
    assert (records / "b-one.bin").exists()
    assert logged(daemon, "outbox/log-1.dat deleted at the master's request"), daemon.log_tail()


def test_refusals_leave_the_daemon_serving(daemon):
    with started(daemon) as master:
        with pytest.raises(FileTransferError, match="COT 47"):
            master.get(CA, 5)
        with pytest.raises(FileTransferError, match="not ready"):
            master.get(CA, 30090)
        with pytest.raises(FileTransferError, match="COT 46"):
            master.get(9, 30001)
        # Control direction (a file from the master) and query log are not supported: COT 44.
        master.send_asdu(iec104.build_asdu(F_FR_NA_1, COT_FILE, CA, [(30001, struct.pack("<H", 1) + b"\x0a\0\0\0")]))
        master.send_asdu(iec104.build_asdu(127, iec104.COT_REQUEST, CA, [(30001, b"\1\0" + b"\0" * 14)]))
        # A segment whose LOS disagrees with its length.
        master.send_asdu(iec104.build_asdu(F_SG_NA_1, COT_FILE, CA, [(30001, b"\1\0\1\x09abc")]))
        # (A spontaneous directory from another test's files may come between: not a reply.)
        replies = [a for a in master.collect(1.5) if a.type_id != F_DR_TA_1]
        assert [(a.type_id, a.cause, a.negative) for a in replies] == [
            (F_FR_NA_1, iec104.COT_UNKNOWN_TYPE, True), (127, iec104.COT_UNKNOWN_TYPE, True),
            (F_SG_NA_1, iec104.COT_UNKNOWN_TYPE, True)], replies
        gi = master.request(iec104.gi(CA), until_cause=iec104.COT_ACTTERM)
        assert gi[-1].cause == iec104.COT_ACTTERM


def test_a_reload_adds_and_removes_areas(tmp_path):
    records, outbox = tmp_path / "records", tmp_path / "outbox"
    records.mkdir()
    outbox.mkdir()
    (records / "r.bin").write_bytes(b"r" * 300)
    (outbox / "o.dat").write_bytes(b"o" * 700)
    (tmp_path / "reload").mkdir()
    full = configured_daemon(tmp_path / "reload", "files", ("main",), records=str(records), outbox=str(outbox))
    full_text = full.config_path.read_text()
    head, records_section = full_text.split("[files records]")
    records_section, outbox_section = records_section.split("[files outbox]")
    full.config_path.write_text(head + "[files records]" + records_section)
    full.start()
    try:
        assert logged(full, "records/r.bin listed at 47:30001"), full.log_tail()
        with started(full) as master:
            assert [(e.ioa, e.lof) for e in master.directory(CA)] == [(30001, 300)]
            full.config_path.write_text(full_text)
            os.kill(full.process.pid, signal.SIGHUP)
            assert logged(full, "files areas changed: 1 added (outbox)"), full.log_tail()
            assert logged(full, "outbox/o.dat listed at 47:31001, 700 octets"), full.log_tail()
            assert [(e.ioa, e.lof) for e in master_directory_until(master, lambda e: e.ioa == 31001)] == [(31001, 700)]
            # The records area goes: its file leaves the directory; the connection of the unchanged station stays.
            full.config_path.write_text(head + "[files outbox]" + outbox_section)
            os.kill(full.process.pid, signal.SIGHUP)
            assert logged(full, "1 removed (records)"), full.log_tail()
            entries = master.directory(CA)
            assert [(e.ioa, e.lof) for e in entries] == [(31001, 700)], entries
    finally:
        full.stop()


def test_a_restart_lists_each_file_at_its_address_of_the_last_run(tmp_path):
    """The state file keeps each file's address: after b and c moved up past a deleted a, a restart would
    otherwise list them oldest first from 30001 again, and a master would see its records change places."""
    records, outbox = tmp_path / "records", tmp_path / "outbox"
    records.mkdir()
    outbox.mkdir()
    contents = {name: os.urandom(size) for name, size in (("a.bin", 10), ("b.bin", 20), ("c.bin", 30), ("d.bin", 40))}
    for index, name in enumerate(("a.bin", "b.bin", "c.bin")):
        (records / name).write_bytes(contents[name])
        os.utime(records / name, (1_760_000_000 + index, 1_760_000_000 + index))
    (tmp_path / "restart").mkdir()
    daemon = configured_daemon(tmp_path / "restart", "files", ("main",), records=str(records), outbox=str(outbox))
    daemon.start()
    try:
        assert logged(daemon, "records/c.bin listed at 47:30003"), daemon.log_tail()
        (records / "a.bin").unlink()
        assert logged(daemon, "records/a.bin at 47:30001 is gone from the directory"), daemon.log_tail()
    finally:
        daemon.stop()  # SIGTERM: the state file is written at the stop
    saved = json.loads((daemon.state_directory / "state.json").read_text())
    assert [(entry["name"], entry["ioa"]) for entry in saved["files"]] == [("b.bin", 30002), ("c.bin", 30003)], saved
    # A newer file arrives while the daemon is stopped: it takes the lowest free address, not b's.
    (records / "d.bin").write_bytes(contents["d.bin"])
    os.utime(records / "d.bin", (1_760_000_010, 1_760_000_010))
    mark = len(daemon.log_text())
    daemon.start()
    try:
        def logged_since_restart(text: str) -> bool:
            deadline = time.monotonic() + 10.0
            while text not in daemon.log_text()[mark:]:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.02)
            return True

        assert logged_since_restart("2 files are listed again at their addresses of the last run"), daemon.log_tail()
        assert logged_since_restart("records/d.bin listed at 47:30001"), daemon.log_tail()
        with started(daemon) as master:
            entries = master.directory(CA)
            assert [(entry.ioa, entry.lof) for entry in entries] == [(30001, 40), (30002, 20), (30003, 30)], entries
            assert master.get(CA, 30002).data == contents["b.bin"]
            assert master.get(CA, 30003).data == contents["c.bin"]
    finally:
        daemon.stop()


def test_status_names_the_areas_and_counts_the_transfers(daemon):
    status = control(daemon, {"op": "status"})
    areas = {area["name"]: area for area in status["file_areas"]}
    assert areas["records"]["common_address"] == CA and areas["records"]["ioa"] == "30001-30099"
    assert areas["records"]["files"] >= len(FILES)
    assert areas["outbox"]["directory"].endswith("outbox")
    [station] = status["stations"]
    transfers = station["file_transfer"]
    assert transfers["completed"] >= len(FILES) and transfers["failed"] >= 1, transfers
    assert "in_progress" not in transfers


# MARK: rtu104ctl

@pytest.fixture(scope="module")
def ctl():
    if not CTL.exists():
        pytest.skip(f"{CTL} is missing; build it with `swift build --product rtu104ctl`")
    return CTL


@pytest.mark.parametrize("name", sorted(FILES))
def test_rtu104ctl_files_get(ctl, daemon, areas, tmp_path, name):
    _, _, contents = areas
    output = tmp_path / f"copy-{name}"
    result = subprocess.run([str(ctl), "files", "get", "127.0.0.1", "--port", str(daemon.port),
                             f"{CA}:{IOA_OF[name]}", "-o", str(output)], capture_output=True, text=True,
                            timeout=CTL_TIMEOUT)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert hashlib.sha256(output.read_bytes()).hexdigest() == hashlib.sha256(contents[name]).hexdigest()
    assert not Path(f"{output}.part").exists()
    assert f"{CA}:{IOA_OF[name]}" in result.stdout and f"{FILES[name]} octets" in result.stdout, result.stdout


def test_rtu104ctl_files_get_of_an_address_without_a_file(ctl, daemon, tmp_path):
    output = tmp_path / "nothing"
    result = subprocess.run([str(ctl), "files", "get", "127.0.0.1", "--port", str(daemon.port), f"{CA}:30090",
                             "-o", str(output)], capture_output=True, text=True, timeout=CTL_TIMEOUT)
    assert result.returncode != 0 and "not ready" in result.stderr, result
    assert not output.exists() and not Path(f"{output}.part").exists()


def test_rtu104ctl_files_list(ctl, daemon):
    table = subprocess.run([str(ctl), "files", "list", "127.0.0.1", "--port", str(daemon.port), "--ca", str(CA)],
                           capture_output=True, text=True, timeout=30)
    assert table.returncode == 0, table.stderr
    for name, size in FILES.items():
        assert any(f"{CA}:{IOA_OF[name]}" in line and str(size) in line for line in table.stdout.splitlines()), \
            table.stdout
    listed = subprocess.run([str(ctl), "files", "list", "127.0.0.1", "--port", str(daemon.port), "--ca", str(CA),
                             "--format", "json"], capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0, listed.stderr
    entries = json.loads(listed.stdout)
    sizes = {entry["ioa"]: entry["size"] for entry in entries if entry["ioa"] in IOA_OF.values()}
    assert sizes == {IOA_OF[name]: size for name, size in FILES.items()}, entries
