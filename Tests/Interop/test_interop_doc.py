"""rtu104ctl interop-doc against the wire: every type identification the daemon sends to a raw master
(GI, a counter interrogation, a command and its return information) is marked used in the document generated
from the same config, with the cause it came with.

The rtu104ctl binary is taken from $RTU104CTL, else next to $RTU104D, else from `swift build --show-bin-path`.
"""

from __future__ import annotations

import subprocess

import iec104
import pytest
from conftest import CTL

RUN_TIMEOUT = 20



def type_rows(markdown: str) -> dict[int, tuple[str, str, set[int]]]:
    """`| 13 | M_ME_NC_1 | used | 3, 5, 20 |` → {13: ("M_ME_NC_1", "used", {3, 5, 20})} for every type table row."""
    rows = {}
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) == 6 and cells[1].isdigit() and cells[2][:2] in ("M_", "C_", "P_"):
            causes = {int(cause) for cause in cells[4].split(",") if cause.strip()}
            rows[int(cells[1])] = (cells[2], cells[3], causes)
    return rows


def test_every_type_on_the_wire_is_used_in_the_document(daemon_factory, tmp_path):
    if not CTL.exists():
        pytest.skip(f"{CTL} is missing; build it with `swift build --product rtu104ctl`")
    daemon = daemon_factory("main")
    output = tmp_path / "interop.md"
    result = subprocess.run([str(CTL), "interop-doc", "--config", str(daemon.config_path), "--output", str(output)],
                            capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert result.returncode == 0, result.stderr
    rows = type_rows(output.read_text())
    assert rows[iec104.M_SP_NA_1][0] == "M_SP_NA_1" and len(rows) >= 40, rows

    seen: list[iec104.ASDU] = []
    with iec104.RawMaster(daemon.port) as master:
        master.start_dt()
        seen += master.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM, timeout=10)
        seen += master.request(iec104.gi(48), until_cause=iec104.COT_ACTTERM, timeout=10)
        counters = iec104.build_asdu(iec104.C_CI_NA_1, iec104.COT_ACTIVATION, 47, [(0, bytes([5]))])
        seen += master.request(counters, until_cause=iec104.COT_ACTTERM, timeout=10)
        seen += master.request(iec104.single_command(48, 2001, True), until_cause=iec104.COT_ACTTERM, timeout=10)
        seen += master.collect(0.5, skip_init=False)

    assert any(asdu.cause == 20 for asdu in seen), seen
    assert any(asdu.type_id == iec104.C_SC_NA_1 and asdu.cause == iec104.COT_ACTCON and not asdu.negative
               for asdu in seen), seen
    monitor = {(asdu.type_id, asdu.cause) for asdu in seen if asdu.type_id < 45 or asdu.type_id == iec104.M_EI_NA_1}
    assert len({type_id for type_id, _ in monitor}) >= 3, monitor
    for type_id, cause in sorted(monitor | {(asdu.type_id, asdu.cause) for asdu in seen}):
        assert type_id in rows, f"type {type_id} seen on the wire has no row"
        name, usage, causes = rows[type_id]
        assert usage == "used", f"{name} seen on the wire with COT {cause} but marked {usage!r}"
        assert cause in causes, f"{name} seen with COT {cause}; the document lists {sorted(causes)}"
