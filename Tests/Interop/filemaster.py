"""A raw-socket IEC 104 master for file transfer (IEC 60870-5-101 7.4.11, monitor direction), independent of
rtu104ctl: select file, call file, call section (P/N=1 for a section of length 0), segments, last segment, section
and file acknowledgements; call directory. Used against lib60870-C's file server and against rtu104d."""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass

import iec104
from iec104 import RawMaster

F_FR_NA_1, F_SR_NA_1, F_SC_NA_1, F_LS_NA_1, F_AF_NA_1, F_SG_NA_1, F_DR_TA_1 = 120, 121, 122, 123, 124, 125, 126
COT_FILE = 13

class FileTransferError(Exception):
    pass


def file_call(ca: int, ioa: int, nof: int, nos: int, scq: int, *, negative: bool = False, cause: int = COT_FILE) -> bytes:
    return iec104.build_asdu(F_SC_NA_1, cause, ca, [(ioa, struct.pack("<HBB", nof, nos, scq))], negative=negative)


def file_ack(ca: int, ioa: int, nof: int, nos: int, afq: int) -> bytes:
    return iec104.build_asdu(F_AF_NA_1, COT_FILE, ca, [(ioa, struct.pack("<HBB", nof, nos, afq))])


@dataclass
class DirectoryEntry:
    ioa: int
    nof: int
    lof: int
    sof: int
    modified_ms: int

    @property
    def last(self) -> bool:
        return bool(self.sof & 0x20)


def directory_entries(asdu: iec104.ASDU) -> list[DirectoryEntry]:
    """The entries of an F_DR_TA_1 with SQ=0 (IOA, NOF, LOF, SOF, CP56Time2a each)."""
    assert asdu.type_id == F_DR_TA_1 and not asdu.raw[1] & 0x80, asdu
    entries = []
    for index in range(asdu.raw[1] & 0x7F):
        raw = asdu.raw[6 + 16 * index:6 + 16 * (index + 1)]
        ioa = int.from_bytes(raw[0:3], "little")
        nof = struct.unpack("<H", raw[3:5])[0]
        lof = int.from_bytes(raw[5:8], "little")
        entries.append(DirectoryEntry(ioa, nof, lof, raw[8], iec104.CP56Time.decode(raw[9:16]).unix_ms()))
    return entries


@dataclass
class Transfer:
    data: bytes
    nof: int
    sections: list[tuple[int, int]]          # (NOS, LOF) as offered by F_SR_NA_1
    last_nos: int                            # NOS of the closing F_LS_NA_1 LSQ=1
    segments: int
    events: int                              # monitor-direction ASDUs seen during the transfer
    seconds: float


class FileMaster(RawMaster):
    """Select file, call file, call section (P/N=1 for a section of length 0), segments, section ack, file ack.
    Acknowledges every I-frame at once (RawMaster). Checks each section's and the file's checksum and length."""

    def file_asdu(self, ca: int, ioa: int, timeout: float) -> iec104.ASDU:
        """The next ASDU of the file service for CA:IOA (122 mirrors included); counts monitor-direction ASDUs
        (events, interrogation replies) on the way."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FileTransferError(f"no file-transfer ASDU within {timeout} s")
            try:
                asdu = self.next_asdu(remaining)
            except TimeoutError:
                raise FileTransferError(f"no file-transfer ASDU within {timeout} s") from None
            if not F_FR_NA_1 <= asdu.type_id <= 127:
                self.others.append(asdu)
                if asdu.type_id < 45:  # process information in monitor direction: events, GI replies
                    self.events += 1
                continue
            if F_FR_NA_1 <= asdu.type_id <= 127 and asdu.ca == ca:
                object_ioa = struct.unpack("<I", asdu.raw[6:9] + b"\0")[0]
                if object_ioa == ioa:
                    return asdu

    events = 0
    others: list[iec104.ASDU]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.others = []

    def directory(self, ca: int, timeout: float = 5.0) -> list[DirectoryEntry] | None:
        """Call directory (F_SC_NA_1, COT 5): the entries up to the one with LFD, or None for the negative answer
        (no files)."""
        self.send_asdu(file_call(ca, 0, 0, 0, 0, cause=iec104.COT_REQUEST))
        entries: list[DirectoryEntry] = []
        deadline = time.monotonic() + timeout
        while True:
            asdu = self.next_asdu(max(deadline - time.monotonic(), 0.01))
            if asdu.type_id == F_SC_NA_1 and asdu.cause == iec104.COT_REQUEST and asdu.negative:
                return None
            if asdu.type_id != F_DR_TA_1 or asdu.cause != iec104.COT_REQUEST:
                continue
            entries += directory_entries(asdu)
            if entries and entries[-1].last:
                return entries

    def get(self, ca: int, ioa: int, nof: int = 0, step_timeout: float = 5.0) -> Transfer:
        self.events = 0
        started = time.monotonic()
        self.send_asdu(file_call(ca, ioa, nof, 0, 1))
        ready = self.file_asdu(ca, ioa, step_timeout)
        if ready.type_id == F_SC_NA_1:
            raise FileTransferError(f"select refused: COT {ready.cause}{' P/N' if ready.negative else ''}")
        assert ready.type_id == F_FR_NA_1 and ready.cause == COT_FILE, ready
        nof = struct.unpack("<H", ready.raw[9:11])[0]
        lof, frq = int.from_bytes(ready.raw[11:14], "little"), ready.raw[14]
        if frq & 0x80:
            raise FileTransferError("file not ready (F_FR_NA_1 negative)")
        self.send_asdu(file_call(ca, ioa, nof, 0, 2))
        data = bytearray()
        sections: list[tuple[int, int]] = []
        segments = 0
        while True:
            asdu = self.file_asdu(ca, ioa, step_timeout)
            if asdu.type_id == F_SR_NA_1:
                nos = asdu.raw[11]
                length = int.from_bytes(asdu.raw[12:15], "little")
                sections.append((nos, length))
                if length == 0:
                    self.send_asdu(file_call(ca, ioa, nof, nos, 6, negative=True))
                    continue
                self.send_asdu(file_call(ca, ioa, nof, nos, 6))
                section = bytearray()
                while True:
                    part = self.file_asdu(ca, ioa, step_timeout)
                    if part.type_id == F_SG_NA_1:
                        los = part.raw[12]
                        assert part.raw[11] == nos and len(part.raw) == 13 + los, part
                        section += part.raw[13:13 + los]
                        segments += 1
                        continue
                    assert part.type_id == F_LS_NA_1, f"expected a segment or the last segment: {part}"
                    lsq, chs = part.raw[12], part.raw[13]
                    if lsq != 3:
                        raise FileTransferError(f"section {nos} ended with LSQ {lsq}")
                    assert len(section) == length, f"section {nos}: {len(section)} octets, LOF {length}"
                    assert chs == sum(section) % 256, f"section {nos}: CHS {chs}, sum {sum(section) % 256}"
                    break
                data += section
                self.send_asdu(file_ack(ca, ioa, nof, nos, 3))
            elif asdu.type_id == F_LS_NA_1:
                lsq, chs = asdu.raw[12], asdu.raw[13]
                if lsq != 1:
                    raise FileTransferError(f"file ended with LSQ {lsq}")
                assert len(data) == lof, f"{len(data)} octets, LOF {lof}"
                assert chs == sum(data) % 256, f"file CHS {chs}, sum {sum(data) % 256}"
                self.send_asdu(file_ack(ca, ioa, nof, asdu.raw[11], 1))
                return Transfer(bytes(data), nof, sections, asdu.raw[11], segments, self.events,
                                time.monotonic() - started)
            elif asdu.type_id == F_SC_NA_1:
                raise FileTransferError(f"call refused: COT {asdu.cause}{' P/N' if asdu.negative else ''}: {asdu}")
            else:
                raise AssertionError(f"unexpected file-transfer ASDU {asdu}")
