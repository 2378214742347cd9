// General interrogation of 1,000 points through the public Outstation API, driven as the server shell
// drives it: a C_IC_NA_1 (QOI 20) in an I-frame, then pump, drain the connection's octets and
// acknowledge each window of k = 12 I-frames with an S-frame, until ACTTERM. One GI per measured
// iteration, so time and mallocs are per 1,000 points (Benchmarks/run prints them per point too).
// What is measured: InterrogationJob + PointPacker + the link layer's framing, no sockets.
import Benchmark
import IEC104
import Outstation

let pointCount = 1000

/// One station serving CA 47 with one connection in data transfer, and the master's sequence numbers.
final class InterrogationDriver {
    private let outstation: Outstation
    private let station: Station
    private let connection = ConnectionID(1)
    private let now = LinkInstant(nanoseconds: 1_000_000_000)
    private let wallTime: Int64 = 1_735_787_045_678
    private var sendSequence: UInt16 = 0
    private var receiveSequence: UInt16 = 0
    private let request: [UInt8]

    init(points: [MonitorPointDefinition]) {
        let configuration = StationConfiguration(name: "bench", listener: "main", filter: .any, commonAddresses: [47])
        outstation = Outstation(points: PointTable(monitorPoints: points), stations: [configuration], now: now,
                                wallTime: wallTime)
        station = outstation.stations[0]
        let asdu = ASDU(cause: CauseOfTransmission(.activation), commonAddress: 47, address: 0,
                        element: .interrogation(.station))
        guard let request = try? asdu.encoded() else { fatalError("C_IC_NA_1 does not encode") }
        self.request = request
        _ = station.attach(connection, peer: "192.0.2.1:40000", now: now)
        // STARTDT con and the end of initialization
        _ = drain(station.receive(.unnumbered(.startDTActivation), asdu: [], on: connection, now: now, wallTime: wallTime),
                  inspect: nil)
    }

    /// Takes what the station sends, acknowledging each window, until it has nothing more.
    /// Returns the I-frames received and whether one was an ACTTERM; `inspect` sees each ASDU's octets.
    private func drain(_ first: [StationAction], inspect: (([UInt8]) -> Void)?) -> (frames: Int, terminated: Bool) {
        var actions = first
        var frames = 0
        var terminated = false
        while true {
            var received = 0
            for case .send(_, let bytes) in actions {
                var position = 0
                while position + APCI.headerLength <= bytes.count {
                    let end = position + 2 + Int(bytes[position + 1])
                    if bytes[position + 2] & 0x01 == 0 {  // I-frame
                        received += 1
                        let asdu = position + APCI.headerLength
                        if bytes[asdu + 2] & 0x3F == Cause.activationTermination.rawValue { terminated = true }
                        inspect?(Array(bytes[asdu..<end]))
                    }
                    position = end
                }
            }
            guard received > 0 else { return (frames, terminated) }
            frames += received
            receiveSequence = (receiveSequence &+ UInt16(received)) & 0x7FFF
            actions = station.receive(.supervisory(receive: receiveSequence), asdu: [], on: connection, now: now,
                                      wallTime: wallTime)
        }
    }

    /// One general interrogation, ACTCON to ACTTERM; returns the I-frames it took.
    @discardableResult
    func interrogate(inspect: (([UInt8]) -> Void)? = nil) -> Int {
        let actions = station.receive(.information(send: sendSequence, receive: receiveSequence), asdu: request,
                                      on: connection, now: now, wallTime: wallTime)
        sendSequence = (sendSequence &+ 1) & 0x7FFF
        let (frames, terminated) = drain(actions, inspect: inspect)
        guard terminated else { fatalError("the interrogation did not end with ACTTERM") }
        return frames
    }

    /// Runs one interrogation and checks it with the codec: every point once, with COT 20.
    func validate(_ name: String) {
        var objects: [UInt32] = []
        var asdus = 0
        interrogate { bytes in
            guard let asdu = try? ASDU(decoding: bytes) else { fatalError("\(name): an ASDU does not decode") }
            guard asdu.cause.cause == .interrogatedByStation else { return }
            asdus += 1
            objects += asdu.objects.map(\.address)
        }
        guard objects.count == pointCount, Set(objects).count == pointCount else {
            fatalError("\(name): \(objects.count) objects in \(asdus) ASDUs, expected each of \(pointCount) points once")
        }
    }
}

/// 1,000 points of CA 47 in runs of `runLength` of each of `kinds` in turn, `gap` IOAs between runs;
/// values that vary, now and then a quality flag.
func points(_ kinds: [PointKind], runLength: Int, gap: UInt32) -> [MonitorPointDefinition] {
    var points: [MonitorPointDefinition] = []
    var ioa: UInt32 = 1
    while points.count < pointCount {
        let kind = kinds[(points.count / runLength) % kinds.count]
        let index = points.count
        let value: PointValue
        switch kind {
        case .single: value = .single(index % 3 == 0)
        case .double: value = .double(index % 2 == 0 ? .on : .off)
        case .step: value = .step(StepPosition(value: Int8(index % 100 - 50)))
        case .bitstring: value = .bitstring(UInt32(index) &* 2_654_435_761)
        case .normalized: value = .normalized(NormalizedValue(Double(index % 200) / 200 - 0.5))
        case .scaled: value = .scaled(Int16(index) - 500)
        case .float: value = .float(Float(index) * 1.25 - 3)
        case .counter: value = .counter(BinaryCounterReading(value: Int32(index) * 1000))
        }
        points.append(MonitorPointDefinition(address: PointAddress(commonAddress: 47, objectAddress: ioa), kind: kind,
                                             initialValue: value,
                                             initialQuality: index % 17 == 0 ? [.notTopical] : []))
        ioa += 1
        if points.count % runLength == 0 { ioa += gap }
    }
    return points
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        units: [.mallocCountTotal: .count],
        warmupIterations: 10,
        maxDuration: .seconds(2),
        maxIterations: 5_000
    )

    let everyGIKind = PointKind.allCases.filter { $0 != .counter }
    let cases: [(name: String, points: @Sendable () -> [MonitorPointDefinition])] = [
        // 1,000 consecutive IOAs: SQ=1, 48 floats or 127 singles per ASDU.
        ("M_ME_NC_1 SQ=1", { points([.float], runLength: pointCount, gap: 0) }),
        ("M_SP_NA_1 SQ=1", { points([.single], runLength: pointCount, gap: 0) }),
        // Every other IOA: SQ=0, 30 floats per ASDU, each with its address.
        ("M_ME_NC_1 SQ=0", { points([.float], runLength: 1, gap: 1) }),
        // Runs of 10 of each kind in turn, apart: one ASDU per run.
        ("mixed kinds", { points(everyGIKind, runLength: 10, gap: 5) }),
    ]

    for (name, makePoints) in cases {
        let title = "GI packing \(name) x\(pointCount)"
        InterrogationDriver(points: makePoints()).validate(title)
        Benchmark(title) { benchmark in
            // Built and warmed (buffers at their working size) outside the measurement; then one GI
            // per iteration on the same connection.
            let driver = InterrogationDriver(points: makePoints())
            driver.interrogate()
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(driver.interrogate())
            }
            benchmark.stopMeasurement()
        }
    }
}
