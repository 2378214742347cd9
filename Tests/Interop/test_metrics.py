"""Prometheus metrics over HTTP (issue 16, configs/metrics.conf): `/metrics` scraped with urllib before and
after a GI, a command, a refused connection, an event buffer overflow and reloads (SIGHUP and the control
socket, good and bad), and the values must have moved by exactly what happened. The exposition parses with
prometheus_client (text format 0.0.4, and OpenMetrics 1.0.0 when asked for it); bad HTTP clients (a huge
header, a wrong path or method, a slowloris, more connections than the limit) never hold up a master's GI;
`rtu104ctl status --json` and the metrics agree on the stations' counters.

The daemon is shared by the module: every test judges deltas between its own scrapes, so the order of the
tests does not matter."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import c104
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

import iec104
from c104master import C104Master
from conftest import BINARY, configured_daemon, free_port
from expect import MAIN_CA47, assert_interrogation
from iec104 import RawMaster
from robust import Control, check_numbered, connect, drain_until_closed, float_values

CTL = BINARY.parent / "rtu104ctl"
HTTP_TIMEOUT = 5.0
# Labels a metric may carry (issue 16: never per-IOA or per-peer labels).
ALLOWED_LABELS = {"listener", "station", "reason", "cot", "type", "kind", "result", "handler", "feeder", "direction",
                  "source", "version", "commit", "le", "quantile"}
# What the daemon serves: one listener 'main', stations 'scada' (127.0.0.1, CA 47/48) and 'small' (127.0.0.2, CA 49).
SCADA = {"listener": "main", "station": "scada"}
SMALL = {"listener": "main", "station": "small"}


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    instance = daemon_factory("metrics", ("main", "metrics"))
    # The start-up probe of the IEC 104 port (conftest) is one connection to scada: let it come and go first.
    settled(instance, lambda m: (assert_value(m, "rtu104d_connections_accepted_total", 1, **SCADA),
                                 assert_value(m, "rtu104d_station_connections", 0, **SCADA)))
    return instance


# MARK: scraping

class Scrape:
    """One parsed exposition: samples by name and labels; a counter never exposed counts as 0."""

    def __init__(self, text: str, openmetrics: bool = False):
        self.text = text
        self.families = {family.name: family for family in (parse_openmetrics if openmetrics else parse_text)(text)}
        self.samples = [sample for family in self.families.values() for sample in family.samples]

    def matching(self, name: str, **labels: str) -> list:
        return [s for s in self.samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples of `name` whose labels include `labels` (0 when there is none)."""
        return sum(sample.value for sample in self.matching(name, **labels))

    def one(self, name: str, **labels: str) -> float:
        """The single sample of `name` with exactly these labels; it must be there."""
        found = [s for s in self.samples if s.name == name and s.labels == labels]
        assert len(found) == 1, f"expected one sample {name}{labels}, found {found}:\n{self.excerpt(name)}"
        return found[0].value

    def excerpt(self, name: str) -> str:
        return "\n".join(line for line in self.text.splitlines() if name in line)


def http_get(port: int, path: str = "/metrics", method: str = "GET", headers: dict | None = None):
    """(status, headers, body) of one request with urllib; HTTP errors are answers too."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode(errors="replace")


def scrape(daemon, openmetrics: bool = False) -> Scrape:
    headers = {"Accept": "application/openmetrics-text; version=1.0.0"} if openmetrics else {}
    status, _, body = http_get(daemon.ports["metrics"], headers=headers)
    assert status == 200, f"GET /metrics answered {status}: {body[:500]}"
    return Scrape(body, openmetrics)


def settled(daemon, check, timeout: float = 3.0) -> Scrape:
    """Scrapes until `check(scrape)` passes (it asserts); the counters are copied from the event loop at each
    scrape, so a value may show a moment after the master saw the frame that moved it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            current = scrape(daemon)
            check(current)
            return current
        except (AssertionError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def ctl_status(daemon) -> dict:
    if not CTL.exists():
        pytest.fail(f"{CTL} is missing; build it with `swift build --product rtu104ctl`")
    result = subprocess.run([str(CTL), "status", "--json", "--socket", str(daemon.control_socket)],
                            capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def is_actterm(type_id: int):
    return lambda a: a.type_id == type_id and (a.cause == iec104.COT_ACTTERM or a.negative)


def raw_gi(port: int, source: str = "127.0.0.1", ca: int = 47) -> list[iec104.ASDU]:
    """A GI from a raw master: every ASDU from ACTCON to ACTTERM, checked against the point table."""
    with RawMaster(port, source=source) as master:
        master.start_dt()
        replies = master.request(iec104.gi(ca), until_cause=iec104.COT_ACTTERM, timeout=10)
    replies = [a for a in replies if a.type_id == iec104.C_IC_NA_1 or a.cause == iec104.COT_INTERROGATED]
    assert_interrogation(replies, iec104.gi(ca), ca, iec104.COT_INTERROGATED, MAIN_CA47)
    return replies


# MARK: the exposition

def test_text_exposition_parses_and_describes_the_daemon(daemon):
    began = time.time()
    status, headers, body = http_get(daemon.ports["metrics"])
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain") and "version=0.0.4" in headers["Content-Type"], headers
    metrics = Scrape(body)

    version = subprocess.run([str(BINARY), "--version"], capture_output=True, text=True, timeout=10).stdout.split()[1]
    build = metrics.matching("rtu104d_build_info")
    assert len(build) == 1 and build[0].value == 1 and build[0].labels["version"] == version, build
    assert "commit" in build[0].labels
    started = metrics.one("rtu104d_start_time_seconds")
    assert began - 300 < started <= began + 1, f"start time {started}, now {began}"
    assert metrics.one("rtu104d_config_last_reload_success_timestamp_seconds") >= started - 1, "the start counts as a load"

    for name in ("rtu104d_station_connections", "rtu104d_station_data_transfer", "rtu104d_events_queued"):
        assert metrics.families[name].type == "gauge", name
        for station in (SCADA, SMALL):
            metrics.one(name, **station)
    # The stations' own counters are there from the start, 0 until they move.
    for name in ("rtu104d_events_sent", "rtu104d_events_dropped", "rtu104d_connections_accepted",
                 "rtu104d_connections_replaced", "rtu104d_link_t1_timeouts", "rtu104d_link_window_full"):
        assert metrics.families[name].type == "counter", name
        for station in (SCADA, SMALL):
            metrics.one(f"{name}_total", **station)
    for station in (SCADA, SMALL):
        for kind in ("station", "group", "counter"):
            metrics.one("rtu104d_interrogations_total", kind=kind, **station)
        for direction in ("sent", "received"):
            metrics.one("rtu104d_link_testfr_total", direction=direction, **station)
    for result in ("success", "failure"):
        metrics.one("rtu104d_config_reload_total", result=result)
    for source in ("control", "feeder", "handler", "simulation"):
        metrics.one("rtu104d_updates_applied_total", source=source)
    # Series by cause, type or result appear when they first move.
    for name in ("rtu104d_commands", "rtu104d_asdus_sent", "rtu104d_asdus_received",
                 "rtu104d_negative_confirmations", "rtu104d_connections_refused"):
        if name in metrics.families:
            assert metrics.families[name].type == "counter", name
    # Every family has its help line.
    helped = set(re.findall(r"^# HELP (\S+) \S", body, re.M))
    typed = set(re.findall(r"^# TYPE (\S+) ", body, re.M))
    assert typed and typed == helped, sorted(typed ^ helped)
    for name in ("rtu104d_interrogation_duration_seconds", "rtu104d_command_duration_seconds"):
        if name in metrics.families:
            assert metrics.families[name].type == "histogram", name
    assert metrics.families["rtu104d_ingest_backlog"].type == "gauge"
    assert all(name.startswith("rtu104d_") for name in metrics.families), sorted(metrics.families)
    extra = {(s.name, label) for s in metrics.samples for label in s.labels if label not in ALLOWED_LABELS}
    assert not extra, f"labels outside the bounded set: {sorted(extra)}"

    listening = [line for line in daemon.log_text().splitlines() if "metrics endpoint listening" in line]
    assert len(listening) == 1 and f"127.0.0.1:{daemon.ports['metrics']}" in listening[0], listening

    head_status, head_headers, head_body = http_get(daemon.ports["metrics"], method="HEAD")
    assert head_status == 200 and head_body == ""
    assert head_headers["Content-Type"] == headers["Content-Type"]


def test_openmetrics_when_the_scraper_asks_for_it(daemon):
    status, headers, body = http_get(daemon.ports["metrics"], headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert status == 200
    assert headers["Content-Type"].startswith("application/openmetrics-text"), headers
    assert body.endswith("# EOF\n") or body.endswith("# EOF"), body[-200:]
    open_metrics = Scrape(body, openmetrics=True)  # the OpenMetrics parser insists on # EOF and on counter naming
    plain = scrape(daemon)
    assert open_metrics.one("rtu104d_start_time_seconds") == plain.one("rtu104d_start_time_seconds")
    assert open_metrics.matching("rtu104d_build_info")[0].labels == plain.matching("rtu104d_build_info")[0].labels
    # Counter families are named without _total in OpenMetrics (their samples keep it), with it in the text format.
    typed = dict(re.findall(r"^# TYPE (\S+) (\S+)$", body, re.M))
    counters = [name for name, kind in typed.items() if kind == "counter"]
    assert counters, typed
    assert not any(name.endswith("_total") for name in counters), counters
    text_typed = dict(re.findall(r"^# TYPE (\S+) (\S+)$", plain.text, re.M))
    text_counters = [name for name, kind in text_typed.items() if kind == "counter"]
    assert sorted(text_counters) == sorted(f"{name}_total" for name in counters), (text_counters, counters)
    assert all(name.endswith("_total") for name in text_counters), text_counters
    # A scraper that does not ask gets the text format.
    assert "# EOF" not in plain.text


# MARK: protocol activity moves the counters

def test_general_interrogation_moves_interrogation_and_asdu_counters(daemon):
    before = scrape(daemon)
    with RawMaster(daemon.port) as master:
        master.start_dt()
        during = settled(daemon, lambda m: (
            assert_value(m, "rtu104d_station_connections", 1, **SCADA),
            assert_value(m, "rtu104d_station_data_transfer", 1, **SCADA)))
        assert during.one("rtu104d_connections_accepted_total", **SCADA) == \
            before.value("rtu104d_connections_accepted_total", **SCADA) + 1
        replies = master.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM)
        data = assert_interrogation(replies, iec104.gi(47), 47, iec104.COT_INTERROGATED, MAIN_CA47)
        group = master.request(iec104.gi(47, qoi=21), until_cause=iec104.COT_ACTTERM)
        assert group[-1].cause == iec104.COT_ACTTERM
        counters = master.request(iec104.build_asdu(iec104.C_CI_NA_1, iec104.COT_ACTIVATION, 47, [(0, bytes([5]))]),
                                  until_cause=iec104.COT_ACTTERM)
        assert counters[-1].cause == iec104.COT_ACTTERM

        def moved(after: Scrape) -> None:
            for kind in ("station", "group", "counter"):
                assert_delta(before, after, "rtu104d_interrogations_total", 1, kind=kind, **SCADA)
                assert_delta(before, after, "rtu104d_interrogation_duration_seconds_count", 1, kind=kind, **SCADA)
            assert_delta(before, after, "rtu104d_asdus_received_total", 2, type="C_IC_NA_1", **SCADA)
            assert_delta(before, after, "rtu104d_asdus_received_total", 1, type="C_CI_NA_1", **SCADA)
            assert_delta(before, after, "rtu104d_asdus_sent_total", 3, cot="7", **SCADA)
            assert_delta(before, after, "rtu104d_asdus_sent_total", 3, cot="10", **SCADA)
            assert_delta(before, after, "rtu104d_asdus_sent_total", len(data), cot="20", **SCADA)
            assert_delta(before, after, "rtu104d_asdus_sent_total", len(group) - 2, cot="21", **SCADA)
            assert_delta(before, after, "rtu104d_asdus_sent_total", len(counters) - 2, cot="37", **SCADA)
            # Nothing else of the station moved: no negative confirmation, no event.
            assert_delta(before, after, "rtu104d_negative_confirmations_total", 0, **SCADA)
            assert_delta(before, after, "rtu104d_events_sent_total", 0, **SCADA)

        after = settled(daemon, moved)
    # The histogram is a real one: cumulative buckets up to +Inf equal the count, the sum grew by a positive time.
    station = dict(kind="station", **SCADA)
    buckets = sorted(((float(s.labels["le"]), s.value) for s in after.matching(
        "rtu104d_interrogation_duration_seconds_bucket", **station)))
    assert [le for le, _ in buckets] == [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, float("inf")], buckets
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), buckets
    assert buckets[-1][1] == after.value("rtu104d_interrogation_duration_seconds_count", **station)
    grown = (after.value("rtu104d_interrogation_duration_seconds_sum", **station)
             - before.value("rtu104d_interrogation_duration_seconds_sum", **station))
    # A GI that is queued whole within one protocol step reads 0 s (the step's clock); see the next test.
    assert 0 <= grown < 10, grown
    # The master is gone: no connection, no data transfer.
    settled(daemon, lambda m: (assert_value(m, "rtu104d_station_connections", 0, **SCADA),
                               assert_value(m, "rtu104d_station_data_transfer", 0, **SCADA)))


def test_interrogation_duration_counts_the_wait_for_acknowledgements(daemon):
    """A broadcast GI (CA 47 and 48: more ASDUs than the k window of 12) to a master that acknowledges nothing
    for 0.5 s: the interrogation that waited is timed at 0.5 s or more, in the right buckets."""
    before = scrape(daemon)
    station = dict(kind="station", **SCADA)
    with RawMaster(daemon.port, ack=False) as master:
        master.start_dt()
        master.send_asdu(iec104.gi(0xFFFF))
        first = master.collect(0.5)
        assert 0 < len(first) <= 12 and not any(a.cause == iec104.COT_ACTTERM and a.ca == 48 for a in first), first
        master.ack()
        master.auto_ack = True
        rest = master.until(lambda a: a.type_id == iec104.C_IC_NA_1 and a.cause == iec104.COT_ACTTERM and a.ca == 48, 5)
    terms = [a for a in first + rest if a.type_id == iec104.C_IC_NA_1 and a.cause == iec104.COT_ACTTERM]
    assert sorted(a.ca for a in terms) == [47, 48], terms

    def moved(after: Scrape) -> None:
        counted = after.value("rtu104d_interrogations_total", **station) - before.value("rtu104d_interrogations_total", **station)
        assert counted >= 1
        assert_delta(before, after, "rtu104d_interrogation_duration_seconds_count", counted, **station)

    after = settled(daemon, moved)
    grown = (after.value("rtu104d_interrogation_duration_seconds_sum", **station)
             - before.value("rtu104d_interrogation_duration_seconds_sum", **station))
    assert 0.45 <= grown < 10, f"the GIs that waited 0.5 s for acknowledgements were timed at {grown} s in all"
    waited = (after.value("rtu104d_interrogation_duration_seconds_bucket", le="0.1", **station)
              - before.value("rtu104d_interrogation_duration_seconds_bucket", le="0.1", **station))
    counted = (after.value("rtu104d_interrogation_duration_seconds_count", **station)
               - before.value("rtu104d_interrogation_duration_seconds_count", **station))
    assert waited <= counted - 1, "the GI that waited 0.5 s landed in a bucket of 0.1 s or less"


def assert_value(metrics: Scrape, name: str, expected: float, **labels: str) -> None:
    assert metrics.value(name, **labels) == expected, f"{name}{labels} = {metrics.value(name, **labels)}, " \
                                                      f"expected {expected}:\n{metrics.excerpt(name)}"


def assert_delta(before: Scrape, after: Scrape, name: str, expected: float, **labels: str) -> None:
    delta = after.value(name, **labels) - before.value(name, **labels)
    assert delta == expected, (f"{name}{labels} moved by {delta}, expected {expected}\nbefore:\n{before.excerpt(name)}\n"
                               f"after:\n{after.excerpt(name)}")


def command(master: RawMaster, ioa: int, positive: bool, cause: int = iec104.COT_ACTCON) -> list[iec104.ASDU]:
    """A direct single command on 48:`ioa`: every ASDU up to its ACTCON (and its ACTTERM when positive)."""
    replies = master.request(iec104.single_command(48, ioa, True), timeout=10)
    confirmation = replies[-1]
    assert (confirmation.cause, confirmation.negative) == (cause, not positive), replies
    if positive:
        replies += master.until(lambda a: a.type_id == iec104.C_SC_NA_1 and a.cause == iec104.COT_ACTTERM, 5)
    return replies


def test_commands_move_command_and_negative_counters(daemon):
    """Direct commands: 48:2003 (no handler) and 48:7201 (handler exits 0) succeed, 48:7301 (handler exits 3)
    fails, 48:2002 (select required) and 48:2999 (no such point) are refused; a GI for CA 99 is refused too."""
    before = scrape(daemon)
    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.collect(0.2)
        received = command(master, 2003, True) + command(master, 7201, True) + command(master, 7301, False)
        received += command(master, 2002, False) + command(master, 2999, False, cause=iec104.COT_UNKNOWN_IOA)
        unknown_ca = master.request(iec104.gi(99))
        assert unknown_ca[-1].cause == iec104.COT_UNKNOWN_CA and unknown_ca[-1].negative, unknown_ca
        received += unknown_ca + master.collect(0.3)
    on_wire = {cause: sum(1 for a in received if a.cause == cause) for cause in (7, 10, 11, 46, 47)}
    negative = {cause: sum(1 for a in received if a.cause == cause and a.negative) for cause in (7, 46, 47)}
    assert negative == {7: 2, 46: 1, 47: 1}, received
    assert on_wire[10] == 2, received  # ACTTERM of the two successes

    def moved(after: Scrape) -> None:
        sc = dict(type="C_SC_NA_1", **SCADA)
        assert_delta(before, after, "rtu104d_commands_total", 2, result="success", **sc)
        assert_delta(before, after, "rtu104d_commands_total", 1, result="failed", **sc)
        assert_delta(before, after, "rtu104d_commands_total", 2, result="refused", **sc)
        # Every command that was carried out or failed is timed; refused ones are not.
        assert_delta(before, after, "rtu104d_command_duration_seconds_count", 3, **sc)
        assert_delta(before, after, "rtu104d_asdus_received_total", 5, **sc)
        assert_delta(before, after, "rtu104d_asdus_received_total", 1, type="C_IC_NA_1", **SCADA)
        for cause in (7, 10, 11, 46, 47):
            assert_delta(before, after, "rtu104d_asdus_sent_total", on_wire[cause], cot=str(cause), **SCADA)
        for cause, count in negative.items():
            assert_delta(before, after, "rtu104d_negative_confirmations_total", count, cot=str(cause), **SCADA)
        assert_delta(before, after, "rtu104d_negative_confirmations_total", 4, **SCADA)
        assert_delta(before, after, "rtu104d_interrogations_total", 0, **SCADA)  # the refused GI started nothing

    after = settled(daemon, moved)
    grown = (after.value("rtu104d_command_duration_seconds_sum", type="C_SC_NA_1", **SCADA)
             - before.value("rtu104d_command_duration_seconds_sum", type="C_SC_NA_1", **SCADA))
    assert 0 < grown < 10, grown


def test_refused_connection_is_counted_by_reason(daemon):
    """127.0.0.3 matches no station's allow: refused as not_admitted, and no station admitted anything."""
    before = scrape(daemon)
    sock = connect(daemon.port, source="127.0.0.3")
    try:
        closed, got = drain_until_closed(sock, 3.0)
    finally:
        sock.close()
    assert closed and got == b"", f"the refused connection got {got!r}"

    def moved(after: Scrape) -> None:
        assert_delta(before, after, "rtu104d_connections_refused_total", 1, listener="main", reason="not_admitted")
        assert_delta(before, after, "rtu104d_connections_refused_total", 1, listener="main")
        assert_delta(before, after, "rtu104d_connections_accepted_total", 0, listener="main")

    settled(daemon, moved)


def test_overflow_counts_dropped_events_and_the_master_gets_the_rest(daemon):
    """Station small (10 places, drop-oldest, no master) gets 50 events: 40 dropped, 10 queued; a master that
    comes later gets the 10 newest, counted as sent, and the queue is empty."""
    before = scrape(daemon)
    start = 1000 + int(time.time() * 10) % 100_000 * 50  # new values, exact in a 32-bit float
    with Control(daemon.control_socket) as control:
        for first in range(start, start + 50, 10):
            reply = control.set([{"point": "49:7001", "value": float(v)} for v in range(first, first + 10)])
            assert reply["events"] == 10, reply

    def overflowed(after: Scrape) -> None:
        queued_before = before.value("rtu104d_events_queued", **SMALL)
        assert_value(after, "rtu104d_events_queued", 10, **SMALL)
        assert_delta(before, after, "rtu104d_events_dropped_total", 40 + queued_before, **SMALL)
        assert_delta(before, after, "rtu104d_events_sent_total", 0, **SMALL)
        assert_delta(before, after, "rtu104d_updates_applied_total", 50, source="control")
        assert_value(after, "rtu104d_ingest_backlog", 0)

    overflowed = settled(daemon, overflowed)
    with RawMaster(daemon.port, source="127.0.0.2") as master:
        master.start_dt()
        events = master.collect(1.0)
    check_numbered(float_values(events)[7001], 10, start=start + 40)

    def delivered(after: Scrape) -> None:
        assert_value(after, "rtu104d_events_queued", 0, **SMALL)
        assert_delta(overflowed, after, "rtu104d_events_sent_total", 10, **SMALL)
        assert_delta(overflowed, after, "rtu104d_events_dropped_total", 0, **SMALL)
        assert_delta(overflowed, after, "rtu104d_asdus_sent_total", len(events), cot="3", **SMALL)

    settled(daemon, delivered)


def test_spontaneous_events_to_a_connected_master_are_counted_as_sent(daemon):
    base = 1000 + int(time.time() * 10) % 100_000 * 10  # values this point never had, exact in a 32-bit float
    with RawMaster(daemon.port) as master:
        master.start_dt()
        master.collect(0.3)  # whatever earlier tests left buffered for scada
        before = scrape(daemon)
        with Control(daemon.control_socket) as control:
            for value in range(1, 6):
                control.set([{"point": "48:7101", "value": float(base + value)}])
        got = []
        deadline = time.monotonic() + 3
        while len(got) < 5 and time.monotonic() < deadline:
            got += [v for asdu in master.collect(0.2) for v in float_values([asdu]).get(7101, [])]
        assert got == [float(base + value) for value in range(1, 6)], got
        settled(daemon, lambda after: (assert_delta(before, after, "rtu104d_events_sent_total", 5, **SCADA),
                                       assert_value(after, "rtu104d_events_queued", 0, **SCADA)))


# MARK: reloads

def wait_for_reloads(daemon, before: Scrape, success: int, failure: int) -> Scrape:
    def moved(after: Scrape) -> None:
        assert_delta(before, after, "rtu104d_config_reload_total", success, result="success")
        assert_delta(before, after, "rtu104d_config_reload_total", failure, result="failure")

    return settled(daemon, moved, timeout=5.0)


def test_reloads_are_counted_good_and_bad(daemon):
    original = daemon.config_path.read_text()
    raw_gi(daemon.port)  # counters the reload must keep
    before = settled(daemon, lambda m: assert_value(m, "rtu104d_station_connections", 0, **SCADA))
    last_success = before.one("rtu104d_config_last_reload_success_timestamp_seconds")
    time.sleep(1.1)  # a timestamp in whole seconds still moves

    os.kill(daemon.process.pid, signal.SIGHUP)
    good = wait_for_reloads(daemon, before, success=1, failure=0)
    reloaded_at = good.one("rtu104d_config_last_reload_success_timestamp_seconds")
    assert last_success < reloaded_at <= time.time() + 1
    # The stations' counters survive a reload (a drop would read as a counter reset to Prometheus).
    for name in ("rtu104d_connections_accepted_total", "rtu104d_asdus_sent_total", "rtu104d_interrogations_total",
                 "rtu104d_events_dropped_total", "rtu104d_updates_applied_total"):
        assert good.value(name) >= before.value(name), f"{name}: {before.value(name)} -> {good.value(name)}"
    assert before.value("rtu104d_interrogations_total") > 0

    daemon.config_path.write_text(original + "\n[station broken]\nlistener = nowhere\nno_such_key = 1\n")
    try:
        os.kill(daemon.process.pid, signal.SIGHUP)
        bad = wait_for_reloads(daemon, before, success=1, failure=1)
        assert bad.one("rtu104d_config_last_reload_success_timestamp_seconds") == reloaded_at, \
            "a failed reload is not a successful load"
        with Control(daemon.control_socket) as control:
            assert control.request({"op": "reload"})["ok"] is False
        wait_for_reloads(daemon, before, success=1, failure=2)
    finally:
        daemon.config_path.write_text(original)
    with Control(daemon.control_socket) as control:
        assert control.request({"op": "reload"})["ok"] is True
    wait_for_reloads(daemon, before, success=2, failure=2)
    raw_gi(daemon.port)  # the station still serves


def test_a_reload_cannot_move_the_endpoint(daemon):
    """A reload that changes [metrics] listen: that key is refused with a warning (restart needed), the rest of
    the reload applies, and the endpoint keeps serving where it was."""
    original = daemon.config_path.read_text()
    other = free_port()
    old = f"listen = 127.0.0.1:{daemon.ports['metrics']}"
    assert old in original
    before = scrape(daemon)
    log_mark = len(daemon.log_text().splitlines())
    daemon.config_path.write_text(original.replace(old, f"listen = 127.0.0.1:{other}"))
    try:
        os.kill(daemon.process.pid, signal.SIGHUP)
        after = settled(daemon, lambda m: assert_delta(before, m, "rtu104d_config_reload_total", 1), timeout=5.0)
        assert_delta(before, after, "rtu104d_config_reload_total", 1, result="success")
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", other), timeout=1).close()
        lines = daemon.log_text().splitlines()[log_mark:]
        warning = [line for line in lines if " warning " in line and "[metrics]" in line and f"127.0.0.1:{other}" in line
                   and f"127.0.0.1:{daemon.ports['metrics']}" in line and "restart" in line]
        assert warning, "no warning about the refused [metrics] listen change:\n" + "\n".join(lines[-20:])
    finally:
        daemon.config_path.write_text(original)
        os.kill(daemon.process.pid, signal.SIGHUP)
        wait_for_reloads(daemon, before, success=2, failure=0)


# MARK: hostile HTTP clients

def exchange(port: int, request: bytes, timeout: float = 5.0) -> tuple[bool, bytes]:
    """Sends `request` (the peer may close before all of it is taken) and reads until close or `timeout`."""
    sock = connect(port, timeout=timeout)
    try:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            return True, b""
        closed, got = drain_until_closed(sock, timeout)
        return closed, got
    finally:
        sock.close()


def status_line(response: bytes) -> str:
    return response.split(b"\r\n", 1)[0].decode(errors="replace")


def test_wrong_path_and_wrong_method(daemon):
    port = daemon.ports["metrics"]
    for path in ("/", "/metrics/", "/metricsx", "/favicon.ico", "/../etc/passwd"):
        status, _, _ = http_get(port, path)
        assert status == 404, f"{path}: {status}"
    for method in ("POST", "PUT", "DELETE"):
        status, _, _ = http_get(port, method=method)
        assert status == 405, f"{method}: {status}"
    # Still served on the same endpoint afterwards.
    scrape(daemon)


def test_keep_alive_connection_serves_several_scrapes(daemon):
    """HTTP/1.1 keep-alive: one connection, three scrapes, each a fresh copy of the counters."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", daemon.ports["metrics"], timeout=HTTP_TIMEOUT)
    try:
        values = []
        for _ in range(3):
            connection.request("GET", "/metrics")
            response = connection.getresponse()
            assert response.status == 200 and response.getheader("connection") == "keep-alive"
            values.append(Scrape(response.read().decode()).one("rtu104d_connections_accepted_total", **SCADA))
            raw_gi(daemon.port)
        assert values[1] == values[0] + 1 and values[2] == values[1] + 1, values
    finally:
        connection.close()


def test_huge_header_gets_431_or_close(daemon):
    big = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Filler: " + b"a" * 64 * 1024 + b"\r\n\r\n"
    closed, got = exchange(daemon.ports["metrics"], big)
    assert closed, "the connection stayed open after a 64 KiB request head"
    assert got == b"" or status_line(got).startswith("HTTP/1.1 431"), got[:200]
    # A head under the limit is served.
    status, _, _ = http_get(daemon.ports["metrics"], headers={"X-Filler": "a" * 4096})
    assert status == 200


class Slowloris(threading.Thread):
    """Sends a request head one header line every 0.5 s and never finishes it; records when the daemon closes it."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.sock = connect(port)
        self.sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n")
        self.opened = time.monotonic()
        self.closed_after: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        index = 0
        while not self.stop.is_set() and time.monotonic() - self.opened < 20:
            try:
                self.sock.setblocking(False)
                try:
                    if self.sock.recv(4096) == b"":
                        break
                except BlockingIOError:
                    pass
                self.sock.setblocking(True)
                self.sock.sendall(b"X-Slow-%d: x\r\n" % index)
            except OSError:
                break
            index += 1
            self.stop.wait(0.5)
        else:
            return
        self.closed_after = time.monotonic() - self.opened

    def finish(self) -> None:
        self.stop.set()
        self.join(5)
        self.sock.close()


class Hammer(threading.Thread):
    """Bad HTTP requests one after another: wrong paths, wrong methods, huge heads, garbage; plus real scrapes."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.answers: dict[str, int] = {}
        self.error: BaseException | None = None

    def count(self, what: str) -> None:
        self.answers[what] = self.answers.get(what, 0) + 1

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.count(f"wrong path {http_get(self.port, '/nothing')[0]}")
                self.count(f"POST {http_get(self.port, method='POST')[0]}")
                closed, got = exchange(self.port, b"GET /metrics HTTP/1.1\r\nX: " + b"b" * 32 * 1024 + b"\r\n\r\n")
                self.count(f"huge head {status_line(got) or 'closed'}")
                closed, got = exchange(self.port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\xff" * 300 + b"\r\n\r\n")
                self.count(f"garbage {status_line(got)[:12] or 'closed'}")
                self.count(f"scrape {http_get(self.port)[0]}")
                self.stop.wait(0.01)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error

    def finish(self) -> None:
        self.stop.set()
        self.join(10)


def test_bad_http_clients_never_hold_up_a_gi(daemon):
    """A slowloris, and a client hammering the endpoint with wrong paths, wrong methods, huge heads, garbage
    and scrapes: GIs from c104 and from the raw master complete with every point meanwhile, the slowloris is
    closed within the 10 s request limit, and the endpoint still answers."""
    before = scrape(daemon)
    slow = Slowloris(daemon.ports["metrics"])
    hammer = Hammer(daemon.ports["metrics"])
    slow.start()
    hammer.start()
    try:
        time.sleep(0.3)
        gis = 0
        with C104Master(daemon.port, [47]) as master:
            while gis < 3:
                since = master.mark()
                master.connection.interrogation(common_address=47, cause=c104.Cot.ACTIVATION,
                                                qualifier=c104.Qoi.STATION, wait_for_response=False)
                asdus = master.wait_for(is_actterm(iec104.C_IC_NA_1), since, timeout=5.0)
                assert_interrogation(asdus, iec104.gi(47), 47, iec104.COT_INTERROGATED, MAIN_CA47)
                gis += 1
        for _ in range(3):
            raw_gi(daemon.port)
            gis += 1
        assert hammer.is_alive() and hammer.error is None, hammer.error
        deadline = slow.opened + 13
        while slow.closed_after is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert slow.closed_after is not None, "the slowloris was still connected 13 s after it began"
        assert 5 < slow.closed_after <= 13, f"closed after {slow.closed_after:.1f} s"
    finally:
        slow.finish()
        hammer.finish()
    assert hammer.error is None, hammer.error
    answers = hammer.answers
    assert answers.get("wrong path 404", 0) >= 1 and answers.get("POST 405", 0) >= 1, answers
    assert all(key in ("wrong path 404", "POST 405", "scrape 200", "huge head closed")
               or key.startswith(("huge head HTTP/1.1 431", "garbage HTTP/1.1 400", "garbage closed")) for key in answers), answers
    settled(daemon, lambda after: assert_delta(before, after, "rtu104d_interrogations_total", gis, kind="station",
                                               **SCADA))


def test_connection_limit_closes_the_seventeenth_and_a_gi_completes(daemon):
    held = []
    try:
        for _ in range(16):
            held.append(connect(daemon.ports["metrics"]))
        time.sleep(0.5)  # the daemon accepts them all
        extra = connect(daemon.ports["metrics"])
        try:
            try:
                extra.sendall(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
            except OSError:
                pass
            closed, got = drain_until_closed(extra, 3.0)
        finally:
            extra.close()
        assert closed and not got.startswith(b"HTTP/1.1 200"), \
            f"a 17th connection was served while 16 were held: {got[:100]!r}"
        raw_gi(daemon.port)
    finally:
        for sock in held:
            sock.close()
    settled(daemon, lambda m: None)  # served again once the held connections are gone


def test_silent_connections_are_let_go_within_the_request_limit(daemon):
    """16 connections that never send a byte take every slot; a request must arrive within 10 s, so they are
    closed by then and a scrape is served again (not only after the 30 s keep-alive idle limit)."""
    held = [connect(daemon.ports["metrics"]) for _ in range(16)]
    opened = time.monotonic()
    try:
        time.sleep(0.5)
        served_after = None
        while time.monotonic() - opened < 14:
            try:
                if http_get(daemon.ports["metrics"])[0] == 200:
                    served_after = time.monotonic() - opened
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert served_after is not None, "16 silent connections still kept every scrape out 14 s after they opened"
        assert served_after > 5, f"a scrape was served {served_after:.1f} s after 16 connections took every slot"
    finally:
        for sock in held:
            sock.close()
        settled(daemon, lambda m: None)  # the slots are free again before the next test scrapes


def test_concurrent_scrapes_see_counters_that_never_go_back(daemon):
    """Four scrapers at once while GIs run: every scraper sees the station's counters only grow (a snapshot
    published out of order would read as a counter reset), and the last scrape has every GI."""
    before = scrape(daemon)
    stop = threading.Event()
    seen: list[list[tuple[float, float]]] = [[] for _ in range(4)]
    errors: list[BaseException] = []

    def scraper(index: int) -> None:
        try:
            while not stop.is_set():
                metrics = scrape(daemon)
                seen[index].append((metrics.value("rtu104d_interrogations_total", **SCADA),
                                    metrics.value("rtu104d_asdus_sent_total", **SCADA)))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=scraper, args=(index,), daemon=True) for index in range(4)]
    for thread in threads:
        thread.start()
    try:
        with RawMaster(daemon.port) as master:
            master.start_dt()
            for _ in range(10):
                master.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM)
        # On a loaded machine the GIs can be over before a scraper has its second scrape.
        deadline = time.monotonic() + 10
        while any(len(values) < 2 for values in seen) and not errors and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert not errors, errors
    for values in seen:
        assert len(values) >= 2
        assert all(a[0] <= b[0] and a[1] <= b[1] for a, b in zip(values, values[1:])), values
    settled(daemon, lambda after: assert_delta(before, after, "rtu104d_interrogations_total", 10, kind="station", **SCADA))


# MARK: one source of truth

def by_label(metrics: Scrape, name: str, label: str, **labels: str) -> dict[str, int]:
    """label value -> count over the samples of `name` with `labels`, the zero ones left out."""
    return {s.labels[label]: int(s.value) for s in metrics.matching(name, **labels) if s.value}


def test_rtu104ctl_status_and_metrics_agree(daemon):
    """After a GI, a refused GI, a command and a refused connection, `rtu104ctl status --json` (taken twice, to
    be sure nothing moved in between) and a scrape show the same counters, down to causes, types and results."""
    raw_gi(daemon.port)
    with RawMaster(daemon.port) as master:
        master.start_dt()
        assert master.request(iec104.gi(99))[-1].negative
        command(master, 2003, True)
    sock = connect(daemon.port, source="127.0.0.3")
    assert drain_until_closed(sock, 3.0)[0]
    sock.close()
    time.sleep(0.3)
    status = ctl_status(daemon)
    metrics = scrape(daemon)
    again = ctl_status(daemon)
    assert status["stations"] == again["stations"] and status["server"] == again["server"], "the daemon was not quiet"
    for station in status["stations"]:
        labels = {"listener": station["listener"], "station": station["name"]}
        pairs = {
            "events_sent": metrics.value("rtu104d_events_sent_total", **labels),
            "connections_accepted": metrics.value("rtu104d_connections_accepted_total", **labels),
            "connections_replaced": metrics.value("rtu104d_connections_replaced_total", **labels),
            "interrogations": metrics.value("rtu104d_interrogations_total", **labels),
            "negative_confirmations": metrics.value("rtu104d_negative_confirmations_total", **labels),
            "dropped_events": metrics.value("rtu104d_events_dropped_total", **labels),
            "buffered_events": metrics.value("rtu104d_events_queued", **labels),
            "asdus_sent": metrics.value("rtu104d_asdus_sent_total", **labels),
            "asdus_sent_by_cot": by_label(metrics, "rtu104d_asdus_sent_total", "cot", **labels),
            "asdus_received_by_type": by_label(metrics, "rtu104d_asdus_received_total", "type", **labels),
            "negative_confirmations_by_cot": by_label(metrics, "rtu104d_negative_confirmations_total", "cot", **labels),
            "interrogations_by_kind": {s.labels["kind"]: int(s.value)
                                       for s in metrics.matching("rtu104d_interrogations_total", **labels)},
            "link": {"t1_timeouts": metrics.value("rtu104d_link_t1_timeouts_total", **labels),
                     "window_full": metrics.value("rtu104d_link_window_full_total", **labels),
                     "testfr_sent": metrics.value("rtu104d_link_testfr_total", direction="sent", **labels),
                     "testfr_received": metrics.value("rtu104d_link_testfr_total", direction="received", **labels)},
        }
        commands: dict[str, dict[str, int]] = {}
        for sample in metrics.matching("rtu104d_commands_total", **labels):
            if sample.value:
                commands.setdefault(sample.labels["type"], {})[sample.labels["result"]] = int(sample.value)
        pairs["commands_by_result"] = commands
        for key, value in pairs.items():
            assert station[key] == value, f"station {station['name']}: status {key} = {station[key]}, metrics {value}"
    refused: dict[str, dict[str, int]] = {}
    for sample in metrics.matching("rtu104d_connections_refused_total"):
        if sample.value:
            refused.setdefault(sample.labels["listener"], {})[sample.labels["reason"]] = int(sample.value)
    assert status["server"]["connections_refused"] == refused
    assert status["server"]["updates_applied_by_source"] == {
        s.labels["source"]: int(s.value) for s in metrics.matching("rtu104d_updates_applied_total")}
    scada = next(s for s in status["stations"] if s["name"] == "scada")
    assert scada["interrogations"] >= 1 and scada["negative_confirmations"] >= 1 and scada["connections_accepted"] >= 2
    assert scada["commands_by_result"]["C_SC_NA_1"]["success"] >= 1 and refused["main"]["not_admitted"] >= 1


def test_replaced_connection_is_counted(daemon):
    """Station scada holds one connection (redundancy 1): a second master from the same address takes its place."""
    before = scrape(daemon)
    with RawMaster(daemon.port) as first:
        first.start_dt()
        with RawMaster(daemon.port) as second:
            second.start_dt()
            assert first.wait_closed(3.0), "the first master is still connected"
            settled(daemon, lambda m: (assert_delta(before, m, "rtu104d_connections_replaced_total", 1, **SCADA),
                                       assert_delta(before, m, "rtu104d_connections_accepted_total", 2, **SCADA),
                                       assert_value(m, "rtu104d_station_connections", 1, **SCADA)))


# MARK: configuration

def check_config(tmp_path, listen: str) -> subprocess.CompletedProcess:
    daemon = configured_daemon(tmp_path, "metrics", ("main", "metrics"),
                               edit=lambda text: re.sub(r"listen = \S+", f"listen = {listen}", text))
    return subprocess.run([str(BINARY), "--check", "--config", str(daemon.config_path)], capture_output=True,
                          text=True, timeout=10)


def test_bad_listen_is_a_config_error_naming_file_and_line(tmp_path):
    good = check_config(tmp_path, "[::1]:9104")
    assert good.returncode == 0, good.stdout + good.stderr
    for wrong in ("127.0.0.1:70000", "127.0.0.1:http", "[::1"):
        bad = check_config(tmp_path, wrong)
        assert bad.returncode == 1, f"listen = {wrong}: " + bad.stdout + bad.stderr
        text = bad.stdout + bad.stderr
        line = next(n for n, l in enumerate((tmp_path / "rtu104d.conf").read_text().splitlines(), 1) if l.startswith("listen"))
        assert re.search(rf"rtu104d\.conf:{line}: \[metrics\] (key ')?listen", text), text


def test_ipv6_endpoint_and_the_check_summary(tmp_path):
    """listen = [::1]:PORT serves over IPv6; `rtu104d --check` names the endpoint."""
    port = free_port()
    daemon = configured_daemon(tmp_path, "metrics", ("main",), port_metrics=str(port),
                               edit=lambda text: text.replace(f"listen = 127.0.0.1:{port}", f"listen = [::1]:{port}"))
    assert f"listen = [::1]:{port}" in daemon.config_path.read_text()
    check = subprocess.run([str(BINARY), "--check", "--config", str(daemon.config_path)], capture_output=True,
                           text=True, timeout=10)
    assert check.returncode == 0 and f"[::1]:{port}" in check.stdout, check.stdout + check.stderr
    daemon.start()
    try:
        with urllib.request.urlopen(f"http://[::1]:{port}/metrics", timeout=HTTP_TIMEOUT) as response:
            assert response.status == 200
            metrics = Scrape(response.read().decode())
        # 0, or 1 while the start-up probe of the IEC 104 port (conftest) is still being closed.
        assert metrics.one("rtu104d_station_connections", **SCADA) in (0, 1)
        assert metrics.one("rtu104d_events_dropped_total", **SMALL) == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        listening = [line for line in daemon.log_text().splitlines() if "metrics endpoint listening" in line]
        assert len(listening) == 1 and f"[::1]:{port}" in listening[0], listening
    finally:
        daemon.stop()


def test_bind_failure_is_a_start_error_naming_the_address(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        daemon = configured_daemon(tmp_path, "metrics", ("main", "metrics"),
                                   edit=lambda text: re.sub(r"listen = \S+", f"listen = 127.0.0.1:{port}", text))
        daemon.state_directory.mkdir()
        daemon.runtime_directory.mkdir()
        result = subprocess.run([str(BINARY), "--config", str(daemon.config_path), "--state-directory",
                                 str(daemon.state_directory), "--runtime-directory", str(daemon.runtime_directory)],
                                capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert result.returncode != 0, "rtu104d started although its metrics address was taken"
    assert f"127.0.0.1:{port}" in result.stdout + result.stderr, result.stdout + result.stderr
