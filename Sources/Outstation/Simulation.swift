#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import IEC104

/// A built-in source of values for a monitor point (the point table's `simulate` key), for test labs and demos.
///
/// Pure: a generator's value is a function of the time since the schedule started (``SimulationSchedule``
/// injects it), plus, for `random_walk`, `toggle` and `counter`, of the value before. Every generator is
/// evaluated at instants `interval` apart.
public enum SimulationGenerator: Hashable, Sendable {
    /// `offset + amplitude · sin(2π t / period)`; float, scaled and normalized points.
    case sine(amplitude: Double, period: Duration, offset: Double, interval: Duration)
    /// A sawtooth: `from` at the start of each period, rising (or falling) linearly towards `to`, then again.
    case ramp(from: Double, to: Double, period: Duration, interval: Duration)
    /// Each tick a uniformly drawn step in −step…+step, kept within min…max; deterministic for a seed.
    case randomWalk(step: Double, min: Double, max: Double, interval: Duration)
    /// Each tick the opposite state: single points true/false, double points on/off.
    case toggle(interval: Duration)
    /// `rate` counts per second, added in whole counts at each tick (fractions carry over).
    case counter(rate: Double, interval: Duration)

    /// The update interval of `sine`, `ramp` and `counter` when none is given.
    public static let defaultInterval = Duration.seconds(1)

    /// The generator's name as the point tables write it.
    public var name: String {
        switch self {
        case .sine: "sine"
        case .ramp: "ramp"
        case .randomWalk: "random_walk"
        case .toggle: "toggle"
        case .counter: "counter"
        }
    }

    /// The time between two values.
    public var interval: Duration {
        switch self {
        case .sine(_, _, _, let interval), .ramp(_, _, _, let interval), .randomWalk(_, _, _, let interval),
             .toggle(let interval), .counter(_, let interval):
            interval
        }
    }

    /// The point kinds the generator fits.
    public var kinds: [PointKind] {
        switch self {
        case .sine, .ramp, .randomWalk: [.float, .scaled, .normalized]
        case .toggle: [.single, .double]
        case .counter: [.counter]
        }
    }

    public func fits(_ kind: PointKind) -> Bool { kinds.contains(kind) }

    /// The value of a time-driven generator (`sine`, `ramp`) at `elapsed` since the start; nil for the others.
    public func value(at elapsed: Duration) -> Double? {
        switch self {
        case .sine(let amplitude, let period, let offset, _):
            let fraction = Self.fraction(of: elapsed, in: period)
            // The quarter periods exactly: sin(π) is not 0 in binary floating point.
            switch fraction {
            case 0, 0.5: return offset
            case 0.25: return offset + amplitude
            case 0.75: return offset - amplitude
            default: return offset + amplitude * sin(2 * Double.pi * fraction)
            }
        case .ramp(let from, let to, let period, _):
            return from + (to - from) * Self.fraction(of: elapsed, in: period)
        case .randomWalk, .toggle, .counter:
            return nil
        }
    }

    /// Where `elapsed` is within the current period, 0 ≤ fraction < 1, from whole nanoseconds (a period of 10 s at
    /// 12 s is 0.2 exactly, not 1.2 − 1).
    static func fraction(of elapsed: Duration, in period: Duration) -> Double {
        let length = max(SimulationSchedule.nanoseconds(period), 1)
        return Double(SimulationSchedule.nanoseconds(elapsed) % length) / Double(length)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// The simulated points of an outstation and when each is due next, as a pure value: time is passed in.
///
/// A point is due at `origin + n · interval`; ``due(now:)`` returns the updates of the points due by `now` (one per
/// point, however late the call: missed ticks are skipped, not caught up) and ``nextDeadline`` says when to ask
/// again. A linear scan: simulation is for a handful of points in a lab, not for the bulk of a table.
///
/// A value set from outside (``override(_:with:now:)``, the control socket's `set`) holds the point for
/// ``hold``; then the generator resumes: `sine` and `ramp` at the phase the clock gives, `random_walk`,
/// `toggle` and `counter` from the value that was set.
public struct SimulationSchedule: Sendable {
    public struct Entry: Sendable {
        public let address: PointAddress
        public let kind: PointKind
        public let generator: SimulationGenerator
        /// The next instant the point is due, in nanoseconds.
        var nextDue: UInt64
        /// The last value (random walk, toggle, counter), as a number: toggles 0/1.
        var state: Double
        /// The counter's fraction of a count carried to the next tick.
        var carry: Double = 0
        /// Nanoseconds before which the generator is held by a value set from outside.
        var heldUntil: UInt64 = 0
        var random: SimulationRandom
    }

    public private(set) var entries: [Entry]
    public let origin: LinkInstant
    /// How long a value set from outside holds a simulated point.
    public let hold: Duration
    private var indexByAddress: [PointAddress: Int] = [:]

    /// How long a `set` holds a simulated point by default.
    public static let defaultHold = Duration.seconds(60)

    /// A schedule of the points among `points` that have a `simulation`, starting at `origin`; nil when none has.
    /// `seed` makes random walks repeatable (each point mixes in its address). A schedule made again at a reload
    /// passes the old origin (sines keep their phase), `now` (the first ticks are the next after it) and
    /// `current`, the values in the process image, to go on from instead of the configured initial values.
    public init?(points: some Sequence<MonitorPointDefinition>, origin: LinkInstant, now: LinkInstant? = nil,
                 seed: UInt64 = 0x5EED_104D, hold: Duration = Self.defaultHold,
                 current: (PointAddress) -> PointValue? = { _ in nil }) {
        var entries: [Entry] = []
        for point in points {
            guard let generator = point.simulation, generator.fits(point.kind) else { continue }
            let interval = max(Self.nanoseconds(generator.interval), 1)
            let start = Self.number(current(point.address) ?? point.initialValue)
            var first = origin.nanoseconds &+ interval
            if let now, now.nanoseconds >= first {
                first = origin.nanoseconds &+ ((now.nanoseconds - origin.nanoseconds) / interval + 1) &* interval
            }
            var state = start
            if case .randomWalk(_, let low, let high, _) = generator, !(low...high).contains(start) { state = (low + high) / 2 }
            let addressBits = UInt64(point.address.commonAddress) << 32 | UInt64(point.address.objectAddress)
            entries.append(Entry(address: point.address, kind: point.kind, generator: generator,
                                 nextDue: first, state: state,
                                 random: SimulationRandom(seed: seed ^ addressBits &* 0x9E37_79B9_7F4A_7C15)))
        }
        guard !entries.isEmpty else { return nil }
        self.entries = entries
        self.origin = origin
        self.hold = hold
        for (index, entry) in entries.enumerated() { indexByAddress[entry.address] = index }
    }

    public var count: Int { entries.count }

    /// Whether the point is simulated.
    public func simulates(_ address: PointAddress) -> Bool { indexByAddress[address] != nil }

    /// The earliest instant a point is due.
    public var nextDeadline: LinkInstant? {
        entries.map(\.nextDue).min().map { LinkInstant(nanoseconds: $0) }
    }

    /// The updates of the points due by `now`, in table order; each point's next instant moves past `now`.
    public mutating func due(now: LinkInstant) -> [PointUpdate] {
        var updates: [PointUpdate] = []
        for index in entries.indices where entries[index].nextDue <= now.nanoseconds {
            let instant = entries[index].nextDue
            let interval = max(Self.nanoseconds(entries[index].generator.interval), 1)
            let missed = (now.nanoseconds - instant) / interval
            entries[index].nextDue = instant &+ (missed + 1) &* interval
            guard instant >= entries[index].heldUntil else { continue }
            let value = step(&entries[index], at: instant)
            updates.append(PointUpdate(address: entries[index].address, value: value))
        }
        return updates
    }

    /// A value set from outside at `now`: the generator holds for ``hold`` and then goes on from it. Returns
    /// whether the point is simulated.
    @discardableResult
    public mutating func override(_ address: PointAddress, with value: PointValue, now: LinkInstant) -> Bool {
        guard let index = indexByAddress[address] else { return false }
        entries[index].state = Self.number(value)
        entries[index].carry = 0
        entries[index].heldUntil = now.nanoseconds &+ Self.nanoseconds(hold)
        return true
    }

    /// Until when a set value holds the point, if it still does at `now`.
    public func heldUntil(_ address: PointAddress, now: LinkInstant) -> LinkInstant? {
        guard let index = indexByAddress[address], entries[index].heldUntil > now.nanoseconds else { return nil }
        return LinkInstant(nanoseconds: entries[index].heldUntil)
    }

    private func step(_ entry: inout Entry, at instant: UInt64) -> PointValue {
        let elapsed = Duration.nanoseconds(Int64(clamping: instant &- origin.nanoseconds))
        switch entry.generator {
        case .sine, .ramp:
            entry.state = entry.generator.value(at: elapsed) ?? entry.state
        case .randomWalk(let size, let low, let high, _):
            let unit = Double(entry.random.next() >> 11) / Double(1 << 53)
            entry.state = Swift.min(Swift.max(entry.state + (unit * 2 - 1) * size, low), high)
        case .toggle:
            entry.state = entry.state == 0 ? 1 : 0
        case .counter(let rate, let interval):
            let counts = rate * SimulationGenerator.seconds(interval) + entry.carry
            let whole = counts.rounded(.down)
            entry.carry = counts - whole
            entry.state += whole
        }
        return Self.value(entry.state, kind: entry.kind)
    }

    /// A generated number as a value of `kind` (rounded and clamped to what the type holds).
    public static func value(_ number: Double, kind: PointKind) -> PointValue {
        switch kind {
        case .single: .single(number != 0)
        case .double: .double(number != 0 ? .on : .off)
        case .step: .step(StepPosition(value: Int8(Swift.min(Swift.max(number.rounded(), -64), 63)), isTransient: false))
        case .bitstring: .bitstring(UInt32(Swift.min(Swift.max(number.rounded(), 0), Double(UInt32.max))))
        case .normalized: .normalized(NormalizedValue(number))
        case .scaled: .scaled(Int16(Swift.min(Swift.max(number.rounded(), -32768), 32767)))
        case .float: .float(Float(number))
        case .counter:
            // Integrated totals wrap like a hardware counter.
            .counter(BinaryCounterReading(value: Int32(truncatingIfNeeded: Int64(Swift.min(Swift.max(number, -9e18), 9e18)))))
        }
    }

    /// A value as the number the generators carry on from.
    static func number(_ value: PointValue) -> Double {
        switch value {
        case .single(let on): on ? 1 : 0
        case .double(let state): state == .on ? 1 : 0
        case .step(let position): Double(position.value)
        case .bitstring(let bits): Double(bits)
        case .normalized(let normalized): normalized.doubleValue
        case .scaled(let scaled): Double(scaled)
        case .float(let float): Double(float)
        case .counter(let reading): Double(reading.value)
        }
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and the same sequence for the same seed on every platform.
struct SimulationRandom: Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
