import ArgumentParser
import IEC104
import Master
import TLS

#if canImport(Glibc)
import Glibc
#endif

/// `rtu104ctl bench HOST --gi | --events --duration S | --connections N`: a load client.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure a station: interrogation throughput, event rate and latency, connection set-up time.",
        discussion: """
        One JSON object per result on standard output, with the keys of the shared bench master \
        (fastmaster) where they mean the same thing:
          --gi           {"metric":"gi","objects":…,"objects_per_s":…,"actcon_to_actterm_s":…,
                          "request_to_actcon_ms":…,…}; --repeat N runs, each on a new
                          connection unless --reuse; --expect N adds "complete".
          --events       {"metric":"events","events":…,"events_per_s":…,"latency_ms_p50":…,
                          "latency_ms_p95":…,"latency_ms_p99":…,"latency_ms_max":…}; counts
                          spontaneous objects (COT 3) for --duration seconds after --warmup;
                          latency = receive wall clock − CP56Time2a tag (same host clock).
          --connections N {"metric":"connect_startdt","ms_p50":…,"ms_p99":…,…}: N times
                          connect + STARTDT act → con, then close.
        Received I-frames are acknowledged in batches (one S-frame per read once w or more \
        arrived, and after --idle-ms without data). The common address of the interrogation is \
        --ca (default 65535: then the run ends when every ACTCON has its ACTTERM). \
        Exit status 0 when every run succeeded, 1 otherwise.
        """)

    @OptionGroup var master: MasterOptions

    @Flag(help: "Measure station interrogation throughput.")
    var gi = false
    @Flag(help: "Measure spontaneous events (rate and latency) for --duration seconds.")
    var events = false
    @Option(help: ArgumentHelp("Measure connection set-up: connect + STARTDT this many times.", valueName: "n"))
    var connections: Int?

    @Option(help: ArgumentHelp("--events: seconds to measure.", valueName: "seconds"))
    var duration: Double = 10
    @Option(help: ArgumentHelp("--events: seconds to receive before measuring.", valueName: "seconds"))
    var warmup: Double = 1
    @Option(help: ArgumentHelp("--gi: number of runs.", valueName: "n"))
    var `repeat`: Int = 1
    @Flag(help: "--gi: one connection for all runs.")
    var reuse = false
    @Option(help: ArgumentHelp("--gi: objects expected (adds \"complete\").", valueName: "n"))
    var expect: Int?
    @Option(help: ArgumentHelp("--gi: pause between STARTDT con and the request.", valueName: "ms"))
    var settleMs: Int = 200
    @Option(help: ArgumentHelp("--gi: QOI (20 station, 21-36 group).", valueName: "n"))
    var qoi: UInt8 = 20
    @Option(help: ArgumentHelp("Send an S-frame after this long without data when I-frames are unacknowledged.", valueName: "ms"))
    var idleMs: Int32 = 10
    @Option(help: ArgumentHelp("SO_RCVBUF in octets.", valueName: "octets"))
    var rcvbuf: Int32 = 4 << 20
    @Option(help: ArgumentHelp("Text copied into every JSON line.", valueName: "text"))
    var label: String?

    func validate() throws {
        let modes = [gi, events, connections != nil].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("choose one of --gi, --events, --connections N") }
        if let connections, connections < 1 { throw ValidationError("--connections must be at least 1") }
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be at least 1") }
        guard duration > 0 else { throw ValidationError("--duration must be more than 0 seconds") }
    }

    func run() throws {
        let endpoint = try master.endpoint()
        let parameters = try master.linkParameters()
        let source = try master.bind.map { try Endpoint.parse($0, defaultPort: 0) }
        let failures: Int
        if gi {
            failures = runInterrogations(endpoint, source, parameters)
        } else if events {
            failures = runEvents(endpoint, source, parameters)
        } else {
            failures = runConnections(endpoint, source, parameters, count: connections ?? 1)
        }
        if failures > 0 { throw ExitCode(MasterExit.refused) }
    }

    // MARK: Connections

    private func open(_ endpoint: Endpoint, _ source: Endpoint?, _ parameters: APCIParameters) throws(MasterError) -> BenchConnection {
        let started = benchClock()
        let options = try tlsOptions()
        var context: TLSContext?
        if let options {
            if let cached = benchTLSContext { context = cached } else { context = try options.makeContext() }
            benchTLSContext = context
        }
        let session = try MasterSession.connect(to: endpoint, from: source, parameters: parameters, tls: options,
                                                context: context, handshakeTimeout: master.timeoutDuration,
                                                receiveBuffer: benchReceiveBuffer)
        session.setReceiveBufferSize(rcvbuf)
        let left = max(0, parameters.t1.secondsDouble - (benchClock() - started))
        do throws(MasterError) {
            try session.startDataTransfer(timeout: .nanoseconds(Int64(left * 1e9)))
        } catch {
            session.close()
            if case .noStartConfirmation = error { throw .noStartConfirmation(parameters.t1) }
            throw error
        }
        return BenchConnection(session: session, idleMilliseconds: idleMs)
    }

    private func tlsOptions() throws(MasterError) -> TLSClientOptions? {
        do { return try master.tlsOptions() } catch { throw .usage("\(error)") }
    }

    private func line(_ metric: String, _ fields: [(String, JSONValue)]) {
        var all: [(String, JSONValue)] = [("metric", .string(metric)), ("client", .string("rtu104ctl")),
                                          ("host", .string(master.station))]
        if let label { all.append(("label", .string(label))) }
        writeStandardOutput(render(.object(all + fields)) + "\n")
    }

    private static func rounded(_ value: Double, _ places: Double) -> JSONValue {
        let scale = powerOfTen(places)
        return .double((value * scale).rounded() / scale)
    }

    // MARK: Interrogation

    private func interrogationRequest() -> [UInt8] {
        let ca = master.commonAddressOrBroadcast
        return [100, 1, 6, master.originator, UInt8(truncatingIfNeeded: ca), UInt8(truncatingIfNeeded: ca >> 8), 0, 0, 0, qoi]
    }

    private func runInterrogations(_ endpoint: Endpoint, _ source: Endpoint?, _ parameters: APCIParameters) -> Int {
        var connection: BenchConnection?
        var failures = 0
        let stall = master.timeout
        for run in 1...`repeat` {
            if connection == nil || !reuse {
                connection?.close()
                connection = nil
                do {
                    let opened = try open(endpoint, source, parameters)
                    if settleMs > 0 { _ = opened.pump(until: benchClock() + Double(settleMs) / 1000) { _ in false } }
                    connection = opened
                } catch {
                    line("gi", [("run", .int(run)), ("ok", .bool(false)), ("error", .string(error.description))])
                    failures += 1
                    continue
                }
            }
            guard let c = connection else { continue }
            c.counters = BenchCounters()
            let bytes0 = c.bytes, sequenceErrors0 = c.sequenceErrors, supervisory0 = c.supervisoryFramesSent
            let cpu0 = processCPUSeconds()
            let requested = benchClock()
            c.sendInformation(interrogationRequest())
            let finished = c.pump(until: requested + max(120, stall * 12), stall: stall) { c in
                c.counters.actconNegative
                    || (c.counters.actconCount > 0 && c.counters.acttermCount >= c.counters.actconCount)
            }
            let ended = benchClock(), cpu1 = processCPUSeconds()
            let k = c.counters
            let ok = finished && !k.actconNegative && k.acttermCount > 0
            var fields: [(String, JSONValue)] = [
                ("run", .int(run)), ("ok", .bool(ok)), ("objects", .int(k.interrogationObjects)),
                ("asdus", .int(k.interrogationASDUs)), ("bytes", .int(c.bytes - bytes0)),
            ]
            if let expect {
                fields += [("expected", .int(expect)), ("complete", .bool(k.interrogationObjects >= expect))]
            }
            if k.actconNegative {
                fields.append(("error", .string("negative ACTCON")))
            } else if !ok {
                fields.append(("error", .string(c.closed ? "connection closed"
                                                : k.actconCount > 0 ? "no ACTTERM (stall/timeout)" : "no ACTCON")))
            }
            if ok {
                let span = k.acttermAt - k.actconAt
                fields += [
                    ("actcon_to_actterm_s", Self.rounded(span, 6)),
                    ("request_to_actcon_ms", Self.rounded((k.actconAt - requested) * 1000, 3)),
                    ("request_to_actterm_s", Self.rounded(k.acttermAt - requested, 6)),
                ]
                if k.interrogationASDUs > 0 {
                    fields.append(("actcon_to_last_object_s", Self.rounded(k.lastObjectAt - k.actconAt, 6)))
                }
                fields.append(("objects_per_s", Self.rounded(span > 0 ? Double(k.interrogationObjects) / span : 0, 1)))
            }
            let window = ended - requested
            fields += [
                ("seq_errors", .int(c.sequenceErrors - sequenceErrors0)),
                ("sframes_sent", .int(c.supervisoryFramesSent - supervisory0)),
                ("window_s", Self.rounded(window, 6)), ("client_cpu_s", Self.rounded(cpu1 - cpu0, 6)),
                ("client_cpu_pct", Self.rounded(window > 0 ? 100 * (cpu1 - cpu0) / window : 0, 1)),
            ]
            line("gi", fields)
            if !ok {
                failures += 1
                c.close()
                connection = nil
            }
        }
        connection?.close()
        return failures
    }

    // MARK: Events

    private func runEvents(_ endpoint: Endpoint, _ source: Endpoint?, _ parameters: APCIParameters) -> Int {
        let c: BenchConnection
        do {
            c = try open(endpoint, source, parameters)
        } catch {
            line("events", [("ok", .bool(false)), ("error", .string(error.description))])
            return 1
        }
        defer { c.close() }
        c.histogram = LatencyHistogram()
        if warmup > 0 { _ = c.pump(until: benchClock() + warmup) { _ in false } }
        c.counters = BenchCounters()
        c.counters.counting = true
        c.histogram = LatencyHistogram()
        let sequenceErrors0 = c.sequenceErrors, bytes0 = c.bytes
        let cpu0 = processCPUSeconds()
        let started = benchClock()
        _ = c.pump(until: started + duration) { _ in false }
        let elapsed = benchClock() - started, cpu1 = processCPUSeconds()
        let k = c.counters
        var fields: [(String, JSONValue)] = [
            ("ok", .bool(!c.closed)), ("duration_s", Self.rounded(elapsed, 3)), ("events", .int(k.eventObjects)),
            ("asdus", .int(k.eventASDUs)), ("events_per_s", Self.rounded(Double(k.eventObjects) / elapsed, 1)),
            ("latency_samples", .int(k.latencySamples)),
        ]
        if let histogram = c.histogram, histogram.samples > 0 {
            for (name, p) in [("latency_ms_p50", 50.0), ("latency_ms_p95", 95), ("latency_ms_p99", 99)] {
                fields.append((name, histogram.percentile(p).map { .double($0) } ?? .null))
            }
            fields.append(("latency_ms_max", histogram.maximum.map { .double($0) } ?? .null))
        }
        if k.latencyInvalid > 0 { fields.append(("cp56_invalid", .int(k.latencyInvalid))) }
        fields += [
            ("other_cot_frames", .int(k.otherCause)), ("seq_errors", .int(c.sequenceErrors - sequenceErrors0)),
            ("bytes", .int(c.bytes - bytes0)), ("client_cpu_pct", Self.rounded(100 * (cpu1 - cpu0) / elapsed, 1)),
        ]
        if c.closed { fields.append(("error", .string("connection closed"))) }
        line("events", fields)
        return c.closed ? 1 : 0
    }

    // MARK: Connection set-up

    private func runConnections(_ endpoint: Endpoint, _ source: Endpoint?, _ parameters: APCIParameters, count: Int) -> Int {
        var samples: [Double] = []
        samples.reserveCapacity(count)
        var failures = 0
        var lastError: String?
        let cpu0 = processCPUSeconds(), started = benchClock()
        for _ in 0..<count {
            let begin = benchClock()
            do {
                let c = try open(endpoint, source, parameters)
                samples.append((benchClock() - begin) * 1000)
                c.close()
            } catch {
                failures += 1
                lastError = error.description
            }
        }
        let wall = benchClock() - started, cpu1 = processCPUSeconds()
        samples.sort()
        func percentile(_ p: Double) -> Double {
            let index = Int(p / 100 * Double(samples.count - 1) + 0.5)
            return samples[min(max(index, 0), samples.count - 1)]
        }
        var fields: [(String, JSONValue)] = [("samples", .int(samples.count)), ("failures", .int(failures))]
        if !samples.isEmpty {
            fields += [
                ("ms_p50", Self.rounded(percentile(50), 3)), ("ms_p99", Self.rounded(percentile(99), 3)),
                ("ms_min", Self.rounded(samples[0], 3)), ("ms_max", Self.rounded(samples[samples.count - 1], 3)),
                ("ms_mean", Self.rounded(samples.reduce(0, +) / Double(samples.count), 3)),
            ]
        }
        fields.append(("client_cpu_pct", Self.rounded(wall > 0 ? 100 * (cpu1 - cpu0) / wall : 0, 1)))
        if let lastError { fields.append(("error", .string(lastError))) }
        fields.append(("note", .string("socket+connect+STARTDT act->con, then close")))
        line("connect_startdt", fields)
        return failures
    }
}

/// 10^places for rounding JSON numbers (no Foundation needed).
func powerOfTen(_ places: Double) -> Double {
    var result = 1.0
    for _ in 0..<Int(places) { result *= 10 }
    return result
}

/// The TLS client context of `bench` (files read once for all connections; bench runs on one thread).
nonisolated(unsafe) private var benchTLSContext: TLSContext?
