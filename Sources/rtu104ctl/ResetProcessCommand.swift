import ArgumentParser
import IEC104

/// `rtu104ctl reset-process HOST [--qualifier general|event-buffer|N]`: C_RP_NA_1.
struct ResetProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-process",
        abstract: "Send a reset process command (C_RP_NA_1).",
        discussion: """
        --qualifier general (QRP 1, general reset of process, the default), event-buffer (QRP 2, \
        discard pending time-tagged events) or a number 0-255. Common address: --ca, else 65535. \
        Exit status 0 on a positive ACTCON.
        """)

    @OptionGroup var master: MasterOptions

    @Option(help: ArgumentHelp("general, event-buffer or a number (QRP).", valueName: "qualifier"))
    var qualifier: String = "general"

    static func parseQualifier(_ text: String) throws -> ResetProcessQualifier {
        switch text.lowercased() {
        case "general": return .general
        case "event-buffer", "events", "event_buffer": return .eventBuffer
        default:
            guard let number = UInt8(text) else {
                throw ValidationError("'\(text)' is not a reset process qualifier; use general, event-buffer or 0...255")
            }
            return ResetProcessQualifier(rawValue: number)
        }
    }

    func validate() throws { _ = try Self.parseQualifier(qualifier) }

    func run() throws {
        let qrp = try Self.parseQualifier(qualifier)
        try runMaster(master) { session in
            let ca = master.commonAddressOrBroadcast
            let request = try Requests.encode(.C_RP_NA_1, cause: .activation, commonAddress: ca,
                                              originator: master.originator, element: .resetProcess(qrp))
            return try SystemCommand.activate("reset process CA \(ca) QRP=\(qrp.rawValue) (\(ElementNames.resetProcess(qrp.rawValue)))",
                                              request: request, session: session, options: master)
        }
    }
}
