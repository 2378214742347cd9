import ArgumentParser
import IEC104
import Master

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
