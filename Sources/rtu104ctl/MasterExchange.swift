import ArgumentParser
import IEC104

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Exit statuses of the master subcommands.
enum MasterExit {
    /// Positive confirmation, complete interrogation, table matches.
    static let success: Int32 = 0
    /// Negative confirmation, no ACTCON/ACTTERM in time, differences found.
    static let refused: Int32 = 1
    /// No connection, connection lost, protocol error.
    static let connection: Int32 = 2
}

/// A progress line on standard error: `rtu104ctl: connected to …`.
func reportProgress(_ message: String) {
    reportError(message)
}

/// Opens a session, runs `body`, closes politely, and turns errors into messages and exit statuses.
func runMaster(_ options: MasterOptions, _ body: (MasterSession) throws -> Int32) throws {
    let status: Int32
    do {
        let session = try options.openSession()
        defer { session.stop() }
        status = try body(session)
    } catch let error as MasterError {
        reportError(error.description)
        throw ExitCode(MasterExit.connection)
    }
    if status != 0 { throw ExitCode(status) }
}

/// A confirmation (ACTCON, DEACTCON, ACTTERM) or a negative reply (COT 44–47) to a request.
struct Confirmation: Sendable {
    var header: ASDUHeader
    var bytes: [UInt8]

    var cause: Cause { header.cause.cause }
    var isNegative: Bool { header.cause.isNegative || (44...47).contains(cause.rawValue) }
    var isTermination: Bool { cause == .activationTermination }
    var isActivationConfirmation: Bool { cause == .activationConfirmation || cause == .deactivationConfirmation }

    /// `ACTCON positive`, `ACTTERM positive`, `ACTCON negative (P/N=1)`,
    /// `negative: unknown information object address (COT 47)`.
    var text: String {
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
    static func match(_ asdu: [UInt8], request: [UInt8]) -> Confirmation? {
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

extension MasterSession {
    /// Sends `request` and waits up to `timeout` for its ACTCON (or a negative reply);
    /// other I-frames go to `other`.
    func activate(_ request: [UInt8], timeout: Duration,
                  other: (APDU) -> Void = { _ in }) throws(MasterError) -> Confirmation? {
        try send(request)
        return try awaitConfirmation(to: request, timeout: timeout, other: other) { _ in true }
    }

    /// Waits for the first reply to `request` that `accept` takes.
    func awaitConfirmation(to request: [UInt8], timeout: Duration, other: (APDU) -> Void = { _ in },
                           accept: (Confirmation) -> Bool) throws(MasterError) -> Confirmation? {
        let deadline = monotonicNow() + timeout
        while let apdu = try next(until: deadline) {
            if let confirmation = Confirmation.match(apdu.asdu, request: request), accept(confirmation) {
                return confirmation
            }
            other(apdu)
        }
        return nil
    }
}

/// Request ASDUs in control direction.
enum Requests {
    static func encode(_ typeID: TypeID, cause: Cause, commonAddress: UInt16, originator: UInt8,
                       address: UInt32 = 0, element: InformationElement) throws(MasterError) -> [UInt8] {
        let asdu = ASDU(typeID: typeID, cause: CauseOfTransmission(cause, originator: originator),
                        commonAddress: commonAddress, objects: [InformationObject(address: address, element: element)])
        do throws(ASDUEncodingError) {
            return try asdu.encoded()
        } catch {
            throw .usage("cannot encode \(typeID.mnemonic): \(error)")
        }
    }
}

/// `CA:IOA`, or `IOA` alone with the common address from `--ca`.
func parsePointAddress(_ text: String, defaultCommonAddress: UInt16?) throws -> (ca: UInt16, ioa: UInt32) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    func number<T: FixedWidthInteger>(_ part: Substring, _ what: String, max: T) throws -> T {
        guard let value = T(part.trimmingSpaces), value <= max else {
            throw ValidationError("'\(text)': '\(part)' is not a \(what) (0...\(max))")
        }
        return value
    }
    switch parts.count {
    case 2:
        return (try number(parts[0], "common address", max: UInt16.max),
                try number(parts[1], "information object address", max: UInt32(ASDU.maximumAddress)))
    case 1:
        guard let ca = defaultCommonAddress else {
            throw ValidationError("'\(text)': give the point as CA:IOA (or the common address with --ca)")
        }
        return (ca, try number(parts[0], "information object address", max: UInt32(ASDU.maximumAddress)))
    default:
        throw ValidationError("'\(text)' is not CA:IOA")
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
