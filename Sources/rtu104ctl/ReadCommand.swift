import ArgumentParser
import IEC104
import Master

/// `rtu104ctl read HOST CA:IOA...`: C_RD_NA_1 for each point, printing the station's answers.
struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Read points with the read command (C_RD_NA_1) and print the answers.",
        discussion: """
        Each point is requested in turn; the station answers with the point itself (COT 5, \
        request) or refuses it (e.g. unknown information object address, COT 47). \
        Exit status: 0 when every point was answered, 1 when one was refused or not answered \
        within --timeout, 2 when the connection failed.
        """)

    @OptionGroup var master: MasterOptions

    @Argument(help: ArgumentHelp("Points as CA:IOA (or IOA with --ca).", valueName: "ca:ioa"))
    var points: [String]

    @Option(help: "Output format: table, csv or json.")
    var format: PointFormat = .table

    func validate() throws {
        guard !points.isEmpty else { throw ValidationError("give at least one point CA:IOA") }
        for point in points { _ = try parsePointAddress(point, defaultCommonAddress: master.commonAddress) }
    }

    func run() throws {
        let addresses = try points.map { try parsePointAddress($0, defaultCommonAddress: master.commonAddress) }
        try runMaster(master) { session in
            var printer = PointPrinter(format: format)
            var failures = 0
            for address in addresses {
                let request = try Requests.encode(.C_RD_NA_1, cause: .request, commonAddress: address.ca,
                                                  originator: master.originator, address: address.ioa, element: .read)
                try session.send(request)
                if !(try awaitAnswer(session, request: request, address: address, printer: &printer)) { failures += 1 }
            }
            return failures == 0 ? MasterExit.success : MasterExit.refused
        }
    }

    /// Waits for the point (COT 5) or a negative mirror of the request.
    private func awaitAnswer(_ session: MasterSession, request: [UInt8], address: (ca: UInt16, ioa: UInt32),
                             printer: inout PointPrinter) throws(MasterError) -> Bool {
        let deadline = monotonicNow() + master.timeoutDuration
        while let apdu = try session.next(until: deadline) {
            if let refusal = Confirmation.match(apdu.asdu, request: request), refusal.isNegative {
                reportError("read \(address.ca):\(address.ioa): \(refusal.text)")
                return false
            }
            guard let asdu = try? ASDU(decoding: apdu.asdu), asdu.typeID.isMonitorDirection,
                  asdu.cause.cause == .request, asdu.commonAddress == address.ca,
                  asdu.objects.contains(where: { $0.address == address.ioa }) else { continue }
            for row in PointRow.rows(of: asdu) where row.object.address == address.ioa { printer.print(row) }
            return true
        }
        reportError("read \(address.ca):\(address.ioa): no answer within \(master.timeout.formatted2) s")
        return false
    }
}
