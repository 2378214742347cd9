/// The link parameters of IEC 60870-5-104 clause 5.5 and 5.2, checked against each other.
public struct APCIParameters: Hashable, Sendable {
    /// Maximum number of sent I-frames awaiting acknowledgement.
    public let k: Int
    /// Acknowledge at the latest after receiving w I-frames.
    public let w: Int
    /// Time-out of connection establishment.
    public let t0: Duration
    /// Time-out of sent I-frames or test/start/stop frames awaiting confirmation.
    public let t1: Duration
    /// Time-out for acknowledging received I-frames when no I-frame of ours carries the acknowledgement.
    public let t2: Duration
    /// Time-out for sending test frames during a long idle period.
    public let t3: Duration

    /// k=12, w=8, t0=30 s, t1=15 s, t2=10 s, t3=20 s: the values clause 5.5 recommends.
    public static let standard = try! APCIParameters(k: 12, w: 8, t0: .seconds(30), t1: .seconds(15),
                                                     t2: .seconds(10), t3: .seconds(20))

    public init(k: Int = 12, w: Int = 8, t0: Duration = .seconds(30), t1: Duration = .seconds(15),
                t2: Duration = .seconds(10), t3: Duration = .seconds(20)) throws(APCIParameterError) {
        guard (1...32767).contains(k) else { throw .outOfRange(name: "k", value: "\(k)", range: "1...32767") }
        guard (1...32767).contains(w) else { throw .outOfRange(name: "w", value: "\(w)", range: "1...32767") }
        // Clause 5.5 recommends w no larger than two thirds of k so the sender never stalls waiting for an ack.
        guard w * 3 <= k * 2 else { throw .windowTooLarge(k: k, w: w) }
        for (name, value) in [("t0", t0), ("t1", t1), ("t2", t2), ("t3", t3)] {
            guard value > .zero, value <= .seconds(255) else {
                throw .outOfRange(name: name, value: "\(value)", range: "greater than 0 s and at most 255 s")
            }
        }
        guard t2 < t1 else { throw .t2NotBelowT1(t1: t1, t2: t2) }
        self.k = k
        self.w = w
        self.t0 = t0
        self.t1 = t1
        self.t2 = t2
        self.t3 = t3
    }
}

/// Why a set of link parameters is not usable.
public enum APCIParameterError: Error, Hashable, Sendable {
    case outOfRange(name: String, value: String, range: String)
    case windowTooLarge(k: Int, w: Int)
    case t2NotBelowT1(t1: Duration, t2: Duration)
}

extension APCIParameterError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .outOfRange(let name, let value, let range): "\(name) = \(value) is outside \(range)"
        case .windowTooLarge(let k, let w): "w = \(w) exceeds two thirds of k = \(k); choose w ≤ \(k * 2 / 3)"
        case .t2NotBelowT1(let t1, let t2): "t2 = \(t2) must be less than t1 = \(t1)"
        }
    }
}
