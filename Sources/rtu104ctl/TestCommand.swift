import ArgumentParser
import IEC104
import Master

/// `rtu104ctl test HOST --ca N`: C_TS_TA_1 with a test sequence counter and the current time.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send a test command (C_TS_TA_1) and report its confirmation and round-trip time.",
        discussion: "Needs the station's common address (--ca). Exit status 0 on a positive ACTCON.")

    @OptionGroup var master: MasterOptions

    @Option(help: ArgumentHelp("Test sequence counter TSC (0-65535).", valueName: "n"))
    var counter: UInt16 = 1

    func validate() throws {
        guard master.commonAddress != nil else {
            throw ValidationError("test needs the station's common address: --ca N")
        }
    }

    func run() throws {
        try runMaster(master) { session in
            let ca = master.commonAddressOrBroadcast
            let stamp = CP56Time2a(unixMilliseconds: wallMilliseconds())
            let request = try Requests.encode(.C_TS_TA_1, cause: .activation, commonAddress: ca,
                                              originator: master.originator,
                                              element: .testWithTime(counter: counter, time: stamp))
            return try SystemCommand.activate("test CA \(ca) TSC=\(counter)", request: request, session: session,
                                              options: master) { confirmation in
                guard let asdu = try? ASDU(decoding: confirmation.bytes),
                      case .testWithTime(let echoed, _)? = asdu.objects.first?.element else { return "" }
                return echoed == counter ? "TSC echoed" : "TSC \(echoed) echoed, \(counter) sent"
            }
        }
    }
}
