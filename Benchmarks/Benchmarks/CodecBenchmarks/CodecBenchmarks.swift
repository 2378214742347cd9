// Decode and encode of full ASDUs: time and heap allocations per ASDU.
//
// Every benchmark runs 1000 ASDUs per measured iteration (scalingFactor .kilo), so the
// scaled figures (marked * in the output) are per ASDU. Encoding appends into one reused
// buffer, so its malloc count shows whether the encode path allocates per object.
import Benchmark
import IEC104

/// A full SQ=0 ASDU of short floats (M_ME_NC_1): 30 objects with their own addresses.
func measuredFloats() -> ASDU {
    let count = ASDU.capacity(of: .M_ME_NC_1, sequence: false)
    let objects = (0..<count).map { (index: Int) -> InformationObject in
        let quality: QualityDescriptor = index % 5 == 0 ? [.notTopical] : []
        let value = Float(index) * 1.25 - 3
        return InformationObject(address: 4000 + UInt32(index) * 7, element: .float(value, quality))
    }
    return ASDU(typeID: .M_ME_NC_1, cause: CauseOfTransmission(.spontaneous), commonAddress: 1, objects: objects)
}

/// A full SQ=1 ASDU of single points (M_SP_NA_1): 127 consecutive addresses.
func singlePointSequence() -> ASDU {
    let count = ASDU.capacity(of: .M_SP_NA_1, sequence: true)
    let objects = (0..<count).map { (index: Int) -> InformationObject in
        let quality: QualityDescriptor = index % 11 == 0 ? [.invalid] : []
        let siq = SinglePointInformation(isOn: index % 3 == 0, quality: quality)
        return InformationObject(address: 1000 + UInt32(index), element: .singlePoint(siq))
    }
    return ASDU(typeID: .M_SP_NA_1, isSequence: true, cause: CauseOfTransmission(.interrogatedByStation),
                commonAddress: 1, objects: objects)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        units: [.mallocCountTotal: .count],
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )

    let cases: [(name: String, asdu: ASDU)] = [
        ("M_ME_NC_1 SQ=0 x\(measuredFloats().objects.count)", measuredFloats()),
        ("M_SP_NA_1 SQ=1 x\(singlePointSequence().objects.count)", singlePointSequence()),
    ]

    for (name, asdu) in cases {
        let bytes: [UInt8]
        do { bytes = try asdu.encoded() } catch { fatalError("benchmark ASDU \(name) does not encode: \(error)") }
        precondition((try? ASDU(decoding: bytes)) == asdu, "benchmark ASDU \(name) does not round-trip")

        Benchmark("decode \(name)") { benchmark in
            try bytes.withUnsafeBytes { raw in
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    blackHole(try ASDU(decoding: raw))
                }
                benchmark.stopMeasurement()
            }
        }

        Benchmark("encode \(name)") { benchmark in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(ASDU.maximumLength)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                buffer.removeAll(keepingCapacity: true)
                try asdu.encode(into: &buffer)
                blackHole(buffer)
            }
            benchmark.stopMeasurement()
            precondition(buffer == bytes, "encode \(name) produced other octets")
        }
    }
}
