public import IEC104

/// Why a file transfer or a directory call failed, in words for the operator (IEC 60870-5-101 clause 7.4.11).
public enum FileTransferError: Error, Hashable, Sendable, CustomStringConvertible {
    /// F_FR_NA_1 with FRQ BS=1: no file at that address now.
    case fileNotReady
    /// F_SR_NA_1 with SRQ BS=1.
    case sectionNotReady(section: UInt8)
    /// The request mirrored negatively: COT 44–47, or P/N=1 (e.g. COT 13, unexpected communication service).
    case refused(step: String, cause: Cause)
    /// F_LS_NA_1 LSQ=2 or 4: the outstation broke the transfer off.
    case aborted(LastSectionQualifier)
    /// A section's CHS did not match `attempts` times in a row.
    case sectionChecksum(section: UInt8, attempts: Int)
    /// The CHS of F_LS_NA_1 LSQ=1 is not the sum of the file's octets.
    case fileChecksum(expected: UInt8, computed: UInt8)
    /// The octets received are not the LOF that F_FR_NA_1 announced.
    case fileLength(announced: UInt32, received: UInt64)
    /// F_FR_NA_1 named a file other than the one selected.
    case unexpectedNameOfFile(requested: UInt16, offered: UInt16)
    /// A reply that breaks the procedure (more octets than announced, a segment of another section, …).
    case protocolViolation(String)
    /// Nothing of the transfer came for `timeout` while waiting for `waitingFor`.
    case timeout(Duration, waitingFor: String)

    public var description: String {
        switch self {
        case .fileNotReady: "file not ready (F_FR_NA_1 negative): no file at that address now"
        case .sectionNotReady(let section): "section \(section) not ready (F_SR_NA_1 negative)"
        case .refused(let step, let cause):
            switch cause.rawValue {
            case 44: "the station does not support \(step): type not supported (COT 44)"
            case 45: "the station refused \(step): cause of transmission not supported (COT 45)"
            case 46: "unknown common address (COT 46)"
            case 47: "unknown information object address (COT 47): no file area there"
            default: "the station refused \(step): \(Self.refusalReason(cause)) (\(cause.name), COT \(cause.rawValue), P/N=1)"
            }
        case .aborted(let qualifier): "aborted by the outstation (F_LS_NA_1 LSQ=\(qualifier.rawValue), \(qualifier.name))"
        case .sectionChecksum(let section, let attempts):
            "checksum of section \(section) failed \(attempts) times"
        case .fileChecksum(let expected, let computed):
            "checksum of the file failed: the station sent CHS \(expected), the octets received sum to \(computed)"
        case .fileLength(let announced, let received):
            "the file is \(announced) octets long (LOF), but \(received) came"
        case .unexpectedNameOfFile(let requested, let offered):
            "the station offered NOF \(offered), not the NOF \(requested) asked for"
        case .protocolViolation(let message): "protocol error: \(message)"
        case .timeout(let timeout, let step):
            "no reply within \(timeout.seconds2) s while waiting for \(step)"
        }
    }

    private static func refusalReason(_ cause: Cause) -> String {
        cause == .fileTransfer ? "unexpected communication service" : "negative confirmation"
    }
}

extension FileTransferError {
    /// The error for a negative mirror of `request`, or nil when `asdu` is none.
    static func refusal(_ asdu: ASDU, of request: ASDU, step: String) -> FileTransferError? {
        guard asdu.typeID == request.typeID, asdu.cause.isNegative || (44...47).contains(asdu.cause.cause.rawValue)
        else { return nil }
        guard request.commonAddress == ASDU.broadcastAddress || asdu.commonAddress == request.commonAddress
        else { return nil }
        guard asdu.objects.first?.address == request.objects.first?.address else { return nil }
        return .refused(step: step, cause: asdu.cause.cause)
    }
}
