/// What a link state machine waited for when t1 ran out.
public enum LinkConfirmation: String, Hashable, Sendable {
    case acknowledgement = "acknowledgement of sent I-frames"
    case testFrame = "TESTFR con"
    case startDataTransfer = "STARTDT con"
    case stopDataTransfer = "STOPDT con"
}

/// Why a link state machine wants the connection closed (IEC 60870-5-104 clause 5).
public enum LinkError: Error, Hashable, Sendable {
    /// t1 ran out before the peer confirmed.
    case timeout(LinkConfirmation)
    /// An I-frame whose N(S) is not the next expected V(R).
    case sequenceError(expected: UInt16, received: UInt16)
    /// An N(R) that acknowledges a frame that was never sent.
    case invalidAcknowledgement(received: UInt16, oldestUnacknowledged: UInt16, nextToSend: UInt16)
    /// An I-frame while data transfer is stopped.
    case informationFrameWhileStopped
    /// A U-frame the role does not expect (e.g. STARTDT act sent to a controlling station).
    case unexpectedFunction(UFunction)
}

extension LinkError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .timeout(let confirmation): "t1 expired waiting for \(confirmation.rawValue)"
        case .sequenceError(let expected, let received): "received N(S)=\(received) where \(expected) was expected"
        case .invalidAcknowledgement(let received, let oldest, let next):
            "received N(R)=\(received), outside the unacknowledged range \(oldest)...\(next)"
        case .informationFrameWhileStopped: "I-frame received while data transfer is stopped"
        case .unexpectedFunction(let function): "unexpected \(function.name)"
        }
    }
}
