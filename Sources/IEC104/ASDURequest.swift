/// A request ASDU as a controlled station received it: the header decoded once, and the octets that its
/// confirmations mirror.
///
/// ACTCON, DEACTCON, ACTTERM and the negative confirmations (COT 44–47) repeat the request byte for byte
/// apart from the cause of transmission (IEC 60870-5-101 clause 7.2.3, 104 clause 9); a broadcast request
/// (common address 0xFFFF) is answered once per common address, with that address in the reply.
public struct ASDURequest: Sendable, Hashable {
    public let header: ASDUHeader
    /// The request as received.
    public let octets: [UInt8]

    /// Reads the header only: a request of an unknown type or with a wrong length still gets its negative
    /// confirmation.
    public init(decoding octets: [UInt8]) throws(ASDUError) {
        self.header = try ASDUHeader(decoding: octets)
        self.octets = octets
    }

    /// The whole ASDU, decoded under the header read at ``init(decoding:)``.
    public func decoded() throws(ASDUError) -> ASDU {
        let header = header
        return try withRawBytes(octets) { raw throws(ASDUError) in try ASDU(decoding: raw, header: header) }
    }

    /// The confirmation of this request with `cause`: P/N set when `negative`, T and the originator address
    /// kept, and `commonAddress` in place of the request's (for the replies to a broadcast).
    public func reply(cause: Cause, negative: Bool = false, commonAddress: UInt16? = nil) -> [UInt8] {
        var reply = octets
        header.reply(cause: cause, negative: negative, commonAddress: commonAddress).write(over: &reply)
        return reply
    }
}

extension ASDUHeader {
    /// The header of a confirmation of this request (see ``ASDURequest/reply(cause:negative:commonAddress:)``).
    public func reply(cause: Cause, negative: Bool = false, commonAddress: UInt16? = nil) -> ASDUHeader {
        var reply = self
        reply.cause = CauseOfTransmission(cause, isNegative: negative, isTest: self.cause.isTest,
                                          originator: self.cause.originator)
        if let commonAddress { reply.commonAddress = commonAddress }
        return reply
    }
}
