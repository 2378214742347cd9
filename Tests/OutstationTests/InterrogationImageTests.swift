import TestSupport
import Testing
import IEC104
@testable import Outstation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Property and differential tests of the interrogation path (ProcessImage's point records, PointPacker,
// InterrogationJob) against the process image and the IEC104 codec: random point tables of every kind,
// random values and qualities, several common addresses, driven as a master drives the station.
//
// Every test draws a fresh seed and names it in each failure; `RTU104D_TEST_SEED=0x…` replays one.

// MARK: - Seeded randomness


/// The seed of a randomized test: `RTU104D_TEST_SEED` (decimal or `0x` hex) when set, else a fresh one.
func randomizedTestSeed() -> UInt64 {
    if let raw = getenv("RTU104D_TEST_SEED") {
        let text = String(cString: raw)
        if text.hasPrefix("0x"), let seed = UInt64(text.dropFirst(2), radix: 16) { return seed }
        if let seed = UInt64(text) { return seed }
    }
    return UInt64.random(in: 0 ... .max)
}

/// Failure reporting for randomized tests: every issue names the seed that replays it, and a broken
/// property reports its first 20 failures rather than thousands.
final class SeededChecks {
    let seed: UInt64
    private(set) var failures = 0
    private static let limit = 20

    init(seed: UInt64) { self.seed = seed }

    var replay: String { "replay with RTU104D_TEST_SEED=0x" + String(seed, radix: 16) }

    func expect(_ condition: Bool, _ message: @autoclosure () -> String,
                sourceLocation: SourceLocation = #_sourceLocation) {
        guard !condition else { return }
        fail(message(), sourceLocation: sourceLocation)
    }

    func fail(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        failures += 1
        if failures <= Self.limit {
            Issue.record("\(message) (\(replay))", sourceLocation: sourceLocation)
        } else if failures == Self.limit + 1 {
            Issue.record("more failures not shown (\(replay))", sourceLocation: sourceLocation)
        }
    }
}

// MARK: - What the wire must carry, written out independently of the code under test

/// The type of a kind's interrogation replies (types without time tag). No `default`: a new
/// ``PointKind`` does not compile until it is added here and to ``Arbitrary/value(of:allowNaN:using:)``.
func interrogationTypeID(_ kind: PointKind) -> TypeID {
    switch kind {
    case .single: .M_SP_NA_1
    case .double: .M_DP_NA_1
    case .step: .M_ST_NA_1
    case .bitstring: .M_BO_NA_1
    case .normalized: .M_ME_NA_1
    case .scaled: .M_ME_NB_1
    case .float: .M_ME_NC_1
    case .counter: .M_IT_NA_1
    }
}

/// The element a master decodes for a point holding `value` with `quality`: what the wire can carry
/// of the image's state (SIQ/DIQ have no OV bit, a decoder keeps only the defined QDS bits, a counter
/// carries the point's IV in its own IV bit).
func wireElement(_ value: PointValue, _ quality: QualityDescriptor) -> InformationElement {
    let pointQuality = QualityDescriptor(rawValue: quality.rawValue & 0xF0)
    let qds = QualityDescriptor(rawValue: quality.rawValue & 0xF1)
    switch value {
    case .single(let on): return .singlePoint(SinglePointInformation(isOn: on, quality: pointQuality))
    case .double(let state): return .doublePoint(DoublePointInformation(state: state, quality: pointQuality))
    case .step(let position): return .stepPosition(position, qds)
    case .bitstring(let bits): return .bitstring(bits, qds)
    case .normalized(let normalized): return .normalized(normalized, qds)
    case .scaled(let scaled): return .scaled(scaled, qds)
    case .float(let float): return .float(float, qds)
    case .counter(var reading):
        if quality.contains(.invalid) { reading.invalid = true }
        return .integratedTotals(reading)
    }
}

/// The same element with its time tag removed (spontaneous events may carry one).
func withoutTime(_ element: InformationElement) -> InformationElement {
    switch element {
    case .singlePoint(let siq, _): .singlePoint(siq)
    case .doublePoint(let diq, _): .doublePoint(diq)
    case .stepPosition(let vti, let quality, _): .stepPosition(vti, quality)
    case .bitstring(let bits, let quality, _): .bitstring(bits, quality)
    case .normalized(let value, let quality, _): .normalized(value, quality)
    case .scaled(let value, let quality, _): .scaled(value, quality)
    case .float(let value, let quality, _): .float(value, quality)
    case .integratedTotals(let bcr, _): .integratedTotals(bcr)
    default: element
    }
}

/// Equal to the bit: floats by bit pattern, so a NaN equals itself and −0 differs from +0.
func identical(_ a: InformationElement, _ b: InformationElement) -> Bool {
    if case .float(let x, let qx, let tx) = a, case .float(let y, let qy, let ty) = b {
        return x.bitPattern == y.bitPattern && qx == qy && tx == ty
    }
    return a == b
}

/// Equal as the process image judges a change: `==` (−0 == +0), and a NaN equals the same NaN.
func equivalent(_ a: InformationElement, _ b: InformationElement) -> Bool { a == b || identical(a, b) }

// MARK: - Random point tables

enum Arbitrary {
    /// A value of `kind`. No `default`: a new kind does not compile until it has a generator.
    static func value(of kind: PointKind, allowNaN: Bool, using rng: inout SplitMix64) -> PointValue {
        switch kind {
        case .single:
            return .single(Bool.random(using: &rng))
        case .double:
            return .double(DoublePointState.allCases.randomElement(using: &rng)!)
        case .step:
            return .step(StepPosition(value: Int8.random(in: StepPosition.range, using: &rng),
                                      isTransient: Bool.random(using: &rng)))
        case .bitstring:
            return .bitstring(UInt32.random(in: 0 ... .max, using: &rng))
        case .normalized:
            return .normalized(NormalizedValue(rawValue: Int16.random(in: .min ... .max, using: &rng)))
        case .scaled:
            return .scaled(Int16.random(in: .min ... .max, using: &rng))
        case .float:
            return .float(float(allowNaN: allowNaN, using: &rng))
        case .counter:
            return .counter(BinaryCounterReading(value: Int32.random(in: .min ... .max, using: &rng),
                                                 sequenceNumber: UInt8.random(in: 0...31, using: &rng),
                                                 carry: Int.random(in: 0..<4, using: &rng) == 0,
                                                 adjusted: Int.random(in: 0..<4, using: &rng) == 0,
                                                 invalid: Int.random(in: 0..<4, using: &rng) == 0))
        }
    }

    static func float(allowNaN: Bool, using rng: inout SplitMix64) -> Float {
        let special: [Float] = [0, -0.0, 1, -1, .infinity, -.infinity, .leastNonzeroMagnitude,
                                -.leastNormalMagnitude, .greatestFiniteMagnitude, .ulpOfOne]
        switch Int.random(in: 0..<10, using: &rng) {
        case 0:
            return special.randomElement(using: &rng)!
        case 1 where allowNaN:
            // Quiet and signalling NaNs with payloads and either sign.
            return Float(bitPattern: 0x7F80_0000 | UInt32.random(in: 1...0x7F_FFFF, using: &rng)
                         | (Bool.random(using: &rng) ? 0x8000_0000 : 0))
        case 2, 3:
            var bits = UInt32.random(in: 0 ... .max, using: &rng)
            while !allowNaN, Float(bitPattern: bits).isNaN { bits = UInt32.random(in: 0 ... .max, using: &rng) }
            return Float(bitPattern: bits)
        default:
            return Float.random(in: -1e6...1e6, using: &rng)
        }
    }

    /// Half of the points good; the rest any combination of the defined bits (OV, BL, SB, NT, IV), or
    /// with `rawBits` now and then an octet with reserved bits set too.
    static func quality(rawBits: Bool, using rng: inout SplitMix64) -> QualityDescriptor {
        if Bool.random(using: &rng) { return [] }
        let octet = UInt8.random(in: 0 ... .max, using: &rng)
        if rawBits, Int.random(in: 0..<4, using: &rng) == 0 { return QualityDescriptor(rawValue: octet) }
        return QualityDescriptor(rawValue: octet & 0xF1)
    }
}

/// A random point table: the common addresses a station serves (in its order) and one it does not.
struct RandomTable {
    var points: [MonitorPointDefinition]
    var served: [UInt16]
    var unserved: UInt16

    var byAddress: [PointAddress: MonitorPointDefinition] {
        Dictionary(uniqueKeysWithValues: points.map { ($0.address, $0) })
    }

    /// Runs of one kind (1–8 points, or now and then 40–140 to fill ASDUs to their limits), contiguous
    /// or with gaps, next to each other or apart; every kind appears in every common address, and the
    /// first common address has a run that ends at the highest IOA, 16 777 215.
    static func make(pointsPerCommonAddress: Int, servedCount: Int = 3, rawQualities: Bool, allowNaN: Bool,
                     using rng: inout SplitMix64) -> RandomTable {
        var addresses = Set<UInt16>()
        while addresses.count < servedCount + 1 { addresses.insert(UInt16.random(in: 1...0xFFFE, using: &rng)) }
        let commonAddresses = Array(addresses).shuffled(using: &rng)
        var points: [MonitorPointDefinition] = []

        func definition(_ ca: UInt16, _ ioa: UInt32, _ kind: PointKind, rng: inout SplitMix64) -> MonitorPointDefinition {
            let groups = Int.random(in: 0..<5, using: &rng) < 2 ? []
                : (0..<Int.random(in: 1...3, using: &rng)).map { _ in Int.random(in: 1...16, using: &rng) }
            let counterGroup = kind == .counter && Bool.random(using: &rng) ? Int.random(in: 1...4, using: &rng) : nil
            return MonitorPointDefinition(
                address: PointAddress(commonAddress: ca, objectAddress: ioa), kind: kind,
                initialValue: Arbitrary.value(of: kind, allowNaN: allowNaN, using: &rng),
                initialQuality: Arbitrary.quality(rawBits: rawQualities, using: &rng),
                timeTaggedEvents: Bool.random(using: &rng), groups: InterrogationGroups(groups: groups),
                counterGroup: counterGroup, priority: EventPriority.allCases.randomElement(using: &rng))
        }

        for (position, ca) in commonAddresses.enumerated() {
            let target = position == servedCount ? 20 : pointsPerCommonAddress
            var kindsToPlace = PointKind.allCases.shuffled(using: &rng)
            var ioa = UInt32.random(in: 1...50_000, using: &rng)
            var count = 0
            while count < target {
                let kind = kindsToPlace.popLast() ?? PointKind.allCases.randomElement(using: &rng)!
                let length = Int.random(in: 0..<8, using: &rng) == 0 ? Int.random(in: 40...140, using: &rng)
                                                                        : Int.random(in: 1...8, using: &rng)
                let contiguous = Int.random(in: 0..<10, using: &rng) < 7
                for _ in 0..<length {
                    points.append(definition(ca, ioa, kind, rng: &rng))
                    ioa += contiguous ? 1 : UInt32.random(in: 2...40, using: &rng)
                }
                count += length
                // Often the next run starts right after this one (SQ=1 must stop at the change of kind).
                if Bool.random(using: &rng) { ioa += UInt32.random(in: 1...300, using: &rng) }
            }
            if position == 0 {
                let kind = PointKind.allCases.randomElement(using: &rng)!
                let length = UInt32.random(in: 2...60, using: &rng)
                for ioa in (ASDU.maximumAddress - length + 1)...ASDU.maximumAddress {
                    points.append(definition(ca, ioa, kind, rng: &rng))
                }
            }
        }
        return RandomTable(points: points.shuffled(using: &rng), served: Array(commonAddresses.prefix(servedCount)),
                           unserved: commonAddresses[servedCount])
    }
}

// MARK: - A master that acknowledges part of the window

/// One I-frame the master received, with the round of updates it arrived after.
struct ReceivedASDU {
    var raw: [UInt8]
    var asdu: ASDU
    var round: Int
}

/// A master on a ``Harness`` connection that counts the outstation's I-frames itself, so that it can
/// acknowledge a few at a time (the outstation then builds one ASDU per freed slot of its k window)
/// and let updates happen between the ASDUs of an interrogation.
final class PartialAcknowledgingMaster {
    let harness: Harness
    let id: ConnectionID
    let checks: SeededChecks
    private(set) var received: [ReceivedASDU] = []
    /// Incremented by the test each time it applies updates; stamps the frames that arrive after.
    var round = 0
    private var receivedCount = 0
    private var acknowledgedCount = 0

    init(harness: Harness, checks: SeededChecks) throws {
        self.harness = harness
        self.checks = checks
        id = harness.connect().id
        // STARTDT; the end of initialization is acknowledged by the harness.
        let frames = try harness.startDataTransfer(on: id)
        receivedCount = frames.filter { if case .information = $0.apci { true } else { false } }.count
        acknowledgedCount = receivedCount
    }

    /// Sends a request in an I-frame whose N(R) acknowledges everything received so far.
    func request(_ asdu: ASDU) throws {
        collect()
        acknowledgedCount = receivedCount
        try harness.request(asdu, on: id)
        collect()
    }

    /// Takes what the outstation wrote: confirms TESTFR, decodes I-frames.
    private func collect() {
        for frame in harness.takeFrames(on: id) {
            switch frame.apci {
            case .unnumbered(.testFRActivation):
                harness.send(.unnumbered(.testFRConfirmation), on: id)
            case .information:
                receivedCount += 1
                checks.expect(frame.asdu.count <= ASDU.maximumLength, "ASDU of \(frame.asdu.count) octets")
                do {
                    received.append(ReceivedASDU(raw: frame.asdu, asdu: try ASDU(decoding: frame.asdu), round: round))
                } catch {
                    checks.fail("the codec cannot decode \(frame.asdu): \(error)")
                }
            default:
                break
            }
        }
    }

    /// Acknowledges up to `count` more I-frames with an S-frame; the outstation sends into the freed room.
    private func acknowledge(_ count: Int) {
        acknowledgedCount = min(acknowledgedCount + count, receivedCount)
        harness.send(.supervisory(receive: UInt16(truncatingIfNeeded: acknowledgedCount) & 0x7FFF), on: id)
        collect()
    }

    /// Lets the outstation send until it has nothing more: acknowledges `step()` frames at a time
    /// and calls `between()` after each acknowledgement (the moment to apply updates).
    func run(step: () -> Int = { 12 }, between: () -> Void = {}) {
        var turns = 0
        while true {
            turns += 1
            guard turns < 200_000 else { checks.fail("the outstation never ran out of data"); return }
            harness.flush()
            collect()
            if receivedCount > acknowledgedCount {
                acknowledge(max(step(), 1))
                between()
                continue
            }
            if !harness.station().hasPendingTransmission { return }
            between()
        }
    }
}

// MARK: - Checking the replies of one interrogation

/// What one interrogation request expects: its reply cause and scope, for a check per common address.
struct InterrogationExpectation {
    var request: ASDU
    var requestBytes: [UInt8]
    var replyCause: Cause
    /// The common addresses answered, in order.
    var commonAddresses: [UInt16]
    /// Whether a point belongs to the reply.
    var inScope: (MonitorPointDefinition) -> Bool

    static func interrogation(_ ca: UInt16, qoi: UInt8, originator: UInt8, table: RandomTable) throws -> Self {
        let request = ASDU(cause: CauseOfTransmission(.activation, originator: originator), commonAddress: ca,
                           address: 0, element: .interrogation(InterrogationQualifier(rawValue: qoi)))
        let group = qoi == 20 ? nil : Int(qoi) - 20
        return Self(request: request, requestBytes: try request.encoded(),
                    replyCause: group.map(Cause.interrogatedByGroup) ?? .interrogatedByStation,
                    commonAddresses: ca == ASDU.broadcastAddress ? table.served : [ca],
                    inScope: { point in
                        point.kind != .counter && (group.map { point.groups.contains(group: $0) } ?? true)
                    })
    }

    static func counters(_ ca: UInt16, request rqt: UInt8, freeze: CounterFreeze = .read, originator: UInt8,
                         table: RandomTable) throws -> Self {
        let request = ASDU(cause: CauseOfTransmission(.activation, originator: originator), commonAddress: ca,
                           address: 0,
                           element: .counterInterrogation(CounterInterrogationQualifier(request: rqt, freeze: freeze)))
        let group = rqt == 5 ? nil : Int(rqt)
        return Self(request: request, requestBytes: try request.encoded(),
                    replyCause: group.map(Cause.requestedByCounterGroup) ?? .requestedByGeneralCounter,
                    commonAddresses: ca == ASDU.broadcastAddress ? table.served : [ca],
                    inScope: { point in
                        freeze == .read && point.kind == .counter && (group.map { point.counterGroup == $0 } ?? true)
                    })
    }

    /// Checks `replies` (the I-frames of this request, spontaneous events already removed): per common
    /// address ACTCON first (the request mirrored), then the data with the reply cause and the request's
    /// originator, each point of the scope exactly once with the kind's type ID, then ACTTERM.
    /// `checkObject` judges each object's value.
    func check(_ replies: ArraySlice<ReceivedASDU>, table: [PointAddress: MonitorPointDefinition], checks: SeededChecks,
               checkObject: (MonitorPointDefinition, InformationObject, ReceivedASDU) -> Void) {
        var index = replies.startIndex
        for ca in commonAddresses {
            var confirmation = ASDU.confirmation(of: requestBytes, cause: .activationConfirmation, negative: false)
            confirmation[4] = UInt8(truncatingIfNeeded: ca)
            confirmation[5] = UInt8(truncatingIfNeeded: ca >> 8)
            guard index < replies.endIndex, replies[index].raw == confirmation else {
                checks.fail("CA \(ca): expected ACTCON \(confirmation), got \(index < replies.endIndex ? "\(replies[index].asdu)" : "nothing")")
                return
            }
            index += 1
            var seen: [UInt32: Int] = [:]
            while index < replies.endIndex, replies[index].asdu.cot == replyCause {
                let reply = replies[index]
                checks.expect(reply.asdu.commonAddress == ca, "CA \(ca): a reply for CA \(reply.asdu.commonAddress)")
                checks.expect(reply.asdu.cause == CauseOfTransmission(replyCause, originator: request.cause.originator),
                              "CA \(ca): reply cause \(reply.asdu.cause)")
                for object in reply.asdu.objects {
                    seen[object.address, default: 0] += 1
                    let address = PointAddress(commonAddress: reply.asdu.commonAddress, objectAddress: object.address)
                    guard let point = table[address] else {
                        checks.fail("reply for \(address), which is not in the table")
                        continue
                    }
                    checks.expect(inScope(point), "\(address) (\(point.kind), groups \(point.groups.groups), counter group \(point.counterGroup.map(String.init) ?? "none")) reported, but not in the scope of \(request.objects[0].element)")
                    checks.expect(reply.asdu.typeID == interrogationTypeID(point.kind) && reply.asdu.typeID == point.kind.typeID,
                                  "\(address) (\(point.kind)) reported as \(reply.asdu.typeID)")
                    checkObject(point, object, reply)
                }
                index += 1
            }
            var termination = ASDU.confirmation(of: requestBytes, cause: .activationTermination, negative: false)
            termination[4] = UInt8(truncatingIfNeeded: ca)
            termination[5] = UInt8(truncatingIfNeeded: ca >> 8)
            guard index < replies.endIndex, replies[index].raw == termination else {
                checks.fail("CA \(ca): expected ACTTERM, got \(index < replies.endIndex ? "\(replies[index].asdu)" : "nothing")")
                return
            }
            index += 1
            let expected = Set(table.values.filter { $0.address.commonAddress == ca && inScope($0) }.map(\.address.objectAddress))
            let missing = expected.subtracting(seen.keys)
            let twice = seen.filter { $0.value > 1 }.keys
            checks.expect(missing.isEmpty, "CA \(ca): \(missing.count) of \(expected.count) points not reported, e.g. \(missing.sorted().prefix(5))")
            checks.expect(twice.isEmpty, "CA \(ca): points reported more than once: \(twice.sorted().prefix(5))")
        }
        checks.expect(index == replies.endIndex, "\(replies.endIndex - index) ASDUs after the last ACTTERM")
    }
}

/// The current state of `point` in the image as the wire carries it; `frozen` reads a counter's frozen value.
func imageElement(_ harness: Harness, _ address: PointAddress, frozen: Bool = false) -> InformationElement? {
    guard let state = harness.outstation.image.state(at: address) else { return nil }
    if frozen, let reading = state.frozen { return wireElement(.counter(reading), state.quality) }
    return wireElement(state.value, state.quality)
}

/// The check for every object an interrogation reports: it is what the image holds (the frozen reading of a
/// counter when `frozen`).
func reportedAsTheImageHoldsIt(_ harness: Harness, checks: SeededChecks, frozen: Bool = false)
    -> (MonitorPointDefinition, InformationObject, ReceivedASDU) -> Void {
    { point, object, _ in
        let expected = imageElement(harness, point.address, frozen: frozen)!
        checks.expect(identical(object.element, expected),
                      "\(point.address) (\(point.kind)): reported \(object.element), the image holds \(expected)")
    }
}

/// A harness with one station serving the table's served common addresses, with window `k` (w = 2k/3).
func makeHarness(for table: RandomTable, k: Int = 12) throws -> Harness {
    let parameters = try APCIParameters(k: k, w: max(k * 2 / 3, 1))
    return Harness(points: table.points, commonAddresses: table.served) { $0.parameters = parameters }
}

// MARK: - a) Every point of the image, once, as the image holds it

@Suite("Interrogation against the process image")
struct InterrogationImageTests {
    @Test func everyKindHasAnInterrogationTypeWithoutTimeTag() {
        for kind in PointKind.allCases {
            var rng = SplitMix64(seed: 1)
            #expect(Arbitrary.value(of: kind, allowNaN: true, using: &rng).kind == kind)
            #expect(interrogationTypeID(kind) == kind.typeID)
            #expect(!kind.typeID.hasTimeTag)
        }
    }

    @Test func stationInterrogationReportsEveryPointOnceAsTheImageHoldsIt() throws {
        let checks = SeededChecks(seed: randomizedTestSeed())
        var rng = SplitMix64(seed: checks.seed)
        let table = RandomTable.make(pointsPerCommonAddress: 400, rawQualities: false, allowNaN: true, using: &rng)
        let points = table.byAddress
        let harness = try makeHarness(for: table)
        let master = try PartialAcknowledgingMaster(harness: harness, checks: checks)
        // Broadcast: every served common address in turn; then one common address on its own.
        for ca in [ASDU.broadcastAddress, table.served.randomElement(using: &rng)!] {
            let expectation = try InterrogationExpectation.interrogation(
                ca, qoi: 20, originator: UInt8.random(in: 0...255, using: &rng), table: table)
            let start = master.received.count
            try master.request(expectation.request)
            master.run(step: { Int.random(in: 1...12, using: &rng) })
            expectation.check(master.received[start...], table: points, checks: checks,
                              checkObject: reportedAsTheImageHoldsIt(harness, checks: checks))
        }
    }

    @Test func groupInterrogationReportsOnlyThatGroup() throws {
        let checks = SeededChecks(seed: randomizedTestSeed())
        var rng = SplitMix64(seed: checks.seed)
        let table = RandomTable.make(pointsPerCommonAddress: 200, rawQualities: false, allowNaN: true, using: &rng)
        let points = table.byAddress
        let harness = try makeHarness(for: table)
        let master = try PartialAcknowledgingMaster(harness: harness, checks: checks)
        for group in 1...16 {
            let ca = Bool.random(using: &rng) ? ASDU.broadcastAddress : table.served.randomElement(using: &rng)!
            let expectation = try InterrogationExpectation.interrogation(
                ca, qoi: UInt8(20 + group), originator: UInt8.random(in: 0...255, using: &rng), table: table)
            let start = master.received.count
            try master.request(expectation.request)
            master.run()
            expectation.check(master.received[start...], table: points, checks: checks,
                              checkObject: reportedAsTheImageHoldsIt(harness, checks: checks))
        }
    }

    @Test func counterInterrogationReportsEveryCounterAndTheFrozenValues() throws {
        let checks = SeededChecks(seed: randomizedTestSeed())
        var rng = SplitMix64(seed: checks.seed)
        let table = RandomTable.make(pointsPerCommonAddress: 200, rawQualities: false, allowNaN: true, using: &rng)
        let points = table.byAddress
        let harness = try makeHarness(for: table)
        let master = try PartialAcknowledgingMaster(harness: harness, checks: checks)
        let counters = table.points.filter { $0.kind == .counter && table.served.contains($0.address.commonAddress) }

        func read(_ ca: UInt16, request rqt: UInt8) throws {
            let expectation = try InterrogationExpectation.counters(
                ca, request: rqt, originator: UInt8.random(in: 0...255, using: &rng), table: table)
            let start = master.received.count
            try master.request(expectation.request)
            master.run(step: { Int.random(in: 1...12, using: &rng) })
            expectation.check(master.received[start...], table: points, checks: checks,
                              checkObject: reportedAsTheImageHoldsIt(harness, checks: checks, frozen: true))
        }

        // Live values: general request, then each group, broadcast and per common address.
        for rqt in UInt8(1)...5 {
            try read(Bool.random(using: &rng) ? ASDU.broadcastAddress : table.served.randomElement(using: &rng)!,
                     request: rqt)
        }
        // Freeze (with or without reset) one group or all, move the live counters on, read again.
        for freeze in [CounterFreeze.freezeWithoutReset, .freezeWithReset] {
            // All counters, or a group that has some.
            let requests = [UInt8(5)] + Set(counters.compactMap(\.counterGroup)).map(UInt8.init).sorted()
            let freezing = try InterrogationExpectation.counters(
                ASDU.broadcastAddress, request: requests.randomElement(using: &rng)!, freeze: freeze, originator: 0,
                table: table)
            let start = master.received.count
            try master.request(freezing.request)
            master.run()
            freezing.check(master.received[start...], table: points, checks: checks) { point, _, _ in
                checks.fail("a freeze reported \(point.address)")
            }
            let updates = counters.shuffled(using: &rng).prefix(counters.count / 2).map { point in
                PointUpdate(address: point.address, value: Arbitrary.value(of: .counter, allowNaN: false, using: &rng),
                            quality: Arbitrary.quality(rawBits: false, using: &rng))
            }
            try harness.apply(Array(updates))
            master.run()
            checks.expect(counters.contains { harness.outstation.image.state(at: $0.address)?.frozen != nil },
                          "no counter was frozen")
            for rqt in UInt8(1)...5 { try read(ASDU.broadcastAddress, request: rqt) }
        }
    }

    // MARK: - b) Events while the interrogation runs

    enum Request: String, CaseIterable, Sendable {
        case station
        case group3
        case counters
    }

    @Test(arguments: Request.allCases)
    func updatesDuringAnInterrogationAreNeitherLostNorReportedStale(_ kind: Request) throws {
        let checks = SeededChecks(seed: randomizedTestSeed())
        var rng = SplitMix64(seed: checks.seed)
        for _ in 0..<8 where checks.failures == 0 {
            try interrogateWhileUpdating(kind, checks: checks, using: &rng)
        }
    }

    /// One random table, one interrogation with random updates between its ASDUs, and the checks.
    private func interrogateWhileUpdating(_ kind: Request, checks: SeededChecks, using rng: inout SplitMix64) throws {
        let table = RandomTable.make(pointsPerCommonAddress: 250, rawQualities: false, allowNaN: true, using: &rng)
        let points = table.byAddress
        // Small windows too, so that updates fall between the very first ASDUs (a group or counter
        // interrogation may fit in one window of 12).
        let k = (kind == .station ? [2, 3, 5, 12] : [2, 3]).randomElement(using: &rng)!
        let harness = try makeHarness(for: table, k: k)
        let master = try PartialAcknowledgingMaster(harness: harness, checks: checks)
        let expectation: InterrogationExpectation
        switch kind {
        case .station: expectation = try .interrogation(ASDU.broadcastAddress, qoi: 20, originator: 3, table: table)
        case .group3: expectation = try .interrogation(ASDU.broadcastAddress, qoi: 23, originator: 3, table: table)
        case .counters: expectation = try .counters(ASDU.broadcastAddress, request: 5, originator: 3, table: table)
        }

        // Each point's states as the wire carries them, stamped with the round that set them (0: initial).
        var history: [PointAddress: [(round: Int, element: InformationElement)]] = [:]
        for point in table.points {
            history[point.address] = [(0, wireElement(point.initialValue, point.initialQuality))]
        }
        let start = master.received.count
        try master.request(expectation.request)
        let requestRound = master.round
        var updatesApplied = 0
        let terminations = expectation.commonAddresses.count
        master.run(step: { Int.random(in: 1...k, using: &rng) }) {
            let finished = master.received[start...].filter { $0.asdu.cot == .activationTermination }.count
            guard finished < terminations else { return }
            // A few updates of random points (any kind, any common address) as one `set` would apply them.
            master.round += 1
            let updates = (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                let point = table.points.randomElement(using: &rng)!
                return PointUpdate(address: point.address,
                                   value: Arbitrary.value(of: point.kind, allowNaN: true, using: &rng),
                                   quality: Arbitrary.quality(rawBits: false, using: &rng))
            }
            do {
                try harness.apply(updates)
            } catch {
                checks.fail("update refused: \(error)")
            }
            for update in updates {
                history[update.address]!.append((master.round, wireElement(update.value, update.quality)))
            }
            updatesApplied += updates.count
        }
        checks.expect(updatesApplied > 0, "no updates during the interrogation (k = \(k))")
        for (address, states) in history {
            checks.expect(equivalent(imageElement(harness, address)!, states.last!.element),
                          "\(address): the test's model and the image disagree")
        }

        let replies = master.received[start...]
        let spontaneous = replies.filter { $0.asdu.cot == .spontaneous }
        checks.expect(spontaneous.count > 0, "no spontaneous events")
        let interrogation = replies.filter { $0.asdu.cot != .spontaneous }

        // Every object of the interrogation: a value the point held between the request and the moment
        // its ASDU arrived.
        expectation.check(interrogation[...], table: points, checks: checks) { point, object, reply in
            let states = history[point.address]!
            let first = states.lastIndex { $0.round <= requestRound }!
            let window = states[first...].filter { $0.round <= reply.round }
            checks.expect(window.contains { identical($0.element, object.element) },
                          "\(point.address) (\(point.kind)): reported \(object.element) after round \(reply.round), never held between rounds \(requestRound) and \(reply.round): \(states)")
        }

        // Spontaneous events: only for served common addresses, with the point's event type, and per
        // point in the order the changes were applied.
        var nextState: [PointAddress: Int] = [:]
        for event in spontaneous {
            for object in event.asdu.objects {
                let address = PointAddress(commonAddress: event.asdu.commonAddress, objectAddress: object.address)
                guard let point = points[address], table.served.contains(address.commonAddress) else {
                    checks.fail("spontaneous event for \(address), not a point of a served common address")
                    continue
                }
                let type = point.timeTaggedEvents ? point.kind.timeTaggedTypeID : point.kind.typeID
                checks.expect(event.asdu.typeID == type, "\(address): event as \(event.asdu.typeID), expected \(type)")
                let states = history[address]!
                let element = withoutTime(object.element)
                let from = nextState[address] ?? 1
                if let found = states[from...].firstIndex(where: { identical($0.element, element) }) {
                    nextState[address] = found + 1
                } else {
                    checks.fail("\(address): event \(element) is not a later state than the one reported before: \(states)")
                }
            }
        }

        // What the master saw last of each point, in frame order, is what the image holds now.
        var lastSeen: [PointAddress: InformationElement] = [:]
        for reply in replies where reply.asdu.cot == .spontaneous || reply.asdu.cot == expectation.replyCause {
            for object in reply.asdu.objects {
                lastSeen[PointAddress(commonAddress: reply.asdu.commonAddress, objectAddress: object.address)]
                    = withoutTime(object.element)
            }
        }
        for point in table.points where table.served.contains(point.address.commonAddress) {
            let final = imageElement(harness, point.address)!
            let initial = history[point.address]![0].element
            guard let seen = lastSeen[point.address] else {
                checks.expect(!expectation.inScope(point) && equivalent(final, initial),
                              "\(point.address) (\(point.kind)): changed to \(final) or in scope, but the master saw nothing")
                continue
            }
            checks.expect(equivalent(seen, final),
                          "\(point.address) (\(point.kind)): the master saw \(seen) last, the image holds \(final)")
        }
        checks.expect(!harness.station().hasPendingTransmission, "still something to send")
    }

    // MARK: - c) PointPacker against the generic codec

    @Test func packedInterrogationRepliesAreTheGenericCodecsOctets() throws {
        let checks = SeededChecks(seed: randomizedTestSeed())
        var rng = SplitMix64(seed: checks.seed)
        var asdusChecked = 0
        var reencodedChecked = 0
        var kindsSeen = Set<PointKind>()
        var sequences = 0
        for _ in 0..<20 where checks.failures == 0 {
            // Reserved quality bits and NaN payloads too: the packer must copy what the generic encoder copies.
            let table = RandomTable.make(pointsPerCommonAddress: 150, servedCount: 2, rawQualities: true,
                                         allowNaN: true, using: &rng)
            let points = table.byAddress
            let harness = try makeHarness(for: table)
            let master = try PartialAcknowledgingMaster(harness: harness, checks: checks)
            // Freeze some counters so that a counter read packs frozen and live readings.
            try master.request(try InterrogationExpectation.counters(
                ASDU.broadcastAddress, request: UInt8.random(in: 1...5, using: &rng), freeze: .freezeWithReset,
                originator: 0, table: table).request)
            master.run()
            let start = master.received.count
            try master.request(interrogation(ASDU.broadcastAddress))
            master.run()
            try master.request(counterInterrogation(ASDU.broadcastAddress))
            master.run()

            for reply in master.received[start...] {
                let cot = reply.asdu.cot
                guard cot == .interrogatedByStation || cot == .requestedByGeneralCounter else { continue }
                asdusChecked += 1
                if reply.asdu.isSequence { sequences += 1 }
                let frozen = cot == .requestedByGeneralCounter
                var generic: [InformationObject] = []
                var reservedBits = false
                for object in reply.asdu.objects {
                    let address = PointAddress(commonAddress: reply.asdu.commonAddress, objectAddress: object.address)
                    guard let point = points[address], let state = harness.outstation.image.state(at: address) else {
                        checks.fail("object for unknown point \(address)")
                        continue
                    }
                    kindsSeen.insert(point.kind)
                    let value = frozen ? state.frozen.map(PointValue.counter) ?? state.value : state.value
                    // Decodes to the image's state, as far as the wire carries it.
                    let expected = wireElement(value, state.quality)
                    checks.expect(identical(object.element, expected),
                                  "\(address) (\(point.kind)): decoded \(object.element), the image holds \(expected)")
                    generic.append(InformationObject(address: object.address,
                                                     element: value.element(quality: state.quality, time: nil)))
                    if point.kind != .single, point.kind != .double, point.kind != .counter,
                       state.quality.rawValue & ~0xF1 != 0 {
                        reservedBits = true
                    }
                }
                // The generic encoder, given the image's elements in the packer's layout, writes the same octets.
                var layout = reply.asdu
                layout.objects = generic
                do {
                    let octets = try layout.encoded()
                    checks.expect(octets == reply.raw, "PointPacker wrote \(reply.raw), the generic encoder \(octets)")
                } catch {
                    checks.fail("the generic encoder refuses the packer's layout \(layout): \(error)")
                }
                // Decoding and re-encoding gives the octets back (reserved QDS bits are dropped by the decoder).
                if !reservedBits {
                    reencodedChecked += 1
                    checks.expect((try? reply.asdu.encoded()) == reply.raw,
                                  "decode → encode of \(reply.raw) gives \((try? reply.asdu.encoded()) ?? [])")
                }
            }
        }
        checks.expect(kindsSeen == Set(PointKind.allCases), "kinds never packed: \(Set(PointKind.allCases).subtracting(kindsSeen))")
        checks.expect(sequences > 0 && sequences < asdusChecked, "SQ=1 in \(sequences) of \(asdusChecked) ASDUs")
        checks.expect(reencodedChecked > asdusChecked / 2, "only \(reencodedChecked) of \(asdusChecked) re-encoded")
    }
}
