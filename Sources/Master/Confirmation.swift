public import IEC104

/// A confirmation (ACTCON, DEACTCON, ACTTERM) or a negative reply (COT 44–47) to a request.
public struct Confirmation: Sendable {
    public var header: ASDUHeader
    public var bytes: [UInt8]

    public var cause: Cause { header.cause.cause }
    public var isNegative: Bool { header.cause.isNegative || (44...47).contains(cause.rawValue) }
    public var isTermination: Bool { cause == .activationTermination }
    public var isActivationConfirmation: Bool { cause == .activationConfirmation || cause == .deactivationConfirmation }

    /// `ACTCON positive`, `ACTTERM positive`, `ACTCON negative (P/N=1)`,
    /// `negative: unknown information object address (COT 47)`.
    public var text: String {
        switch cause.rawValue {
        case 7, 9, 10:
            let name = cause.name.uppercased()
            return isNegative ? "\(name) negative (P/N=1)" : "\(name) positive"
        default:
            return "negative: \(cause.name) (COT \(cause.rawValue))"
        }
    }

    /// Whether `asdu` answers `request`: the same type, the same common address (any for a broadcast
    /// request), the same first information object address, and a confirmation cause.
    public static func match(_ asdu: [UInt8], request: [UInt8]) -> Confirmation? {
        guard asdu.count >= ASDU.headerLength, request.count >= ASDU.headerLength,
              let header = try? ASDUHeader(decoding: asdu),
              asdu[0] == request[0] else { return nil }
        let cause = header.cause.cause.rawValue
        guard cause == 7 || cause == 9 || cause == 10 || (44...47).contains(cause) else { return nil }
        let requestCA = UInt16(request[4]) | UInt16(request[5]) << 8
        guard requestCA == ASDU.broadcastAddress || header.commonAddress == requestCA
                || header.commonAddress == ASDU.broadcastAddress else { return nil }
        let ioa = ASDU.headerLength..<(ASDU.headerLength + ASDU.addressLength)
        if asdu.count >= ioa.upperBound, request.count >= ioa.upperBound, asdu[ioa] != request[ioa] { return nil }
        return Confirmation(header: header, bytes: asdu)
    }
}
