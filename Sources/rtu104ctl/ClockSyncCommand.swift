import ArgumentParser
import IEC104
import Master

/// `rtu104ctl clock-sync HOST [--ca N]`: C_CS_NA_1 with the current UTC time.
struct ClockSyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clock-sync",
        abstract: "Synchronize the station's clock (C_CS_NA_1) to this host's UTC time.",
        discussion: "Common address: --ca, else the broadcast address 65535. Exit status 0 on a positive ACTCON.")

    @OptionGroup var master: MasterOptions

    @Option(help: ArgumentHelp("Send this time instead of now: milliseconds since 1970 (UTC).", valueName: "ms"))
    var time: Int64?

    func run() throws {
        try runMaster(master) { session in
            let milliseconds = time ?? wallMilliseconds()
            let stamp = CP56Time2a(unixMilliseconds: milliseconds)
            let ca = master.commonAddressOrBroadcast
            let request = try Requests.encode(.C_CS_NA_1, cause: .activation, commonAddress: ca,
                                              originator: master.originator, element: .clockSynchronization(stamp))
            return try SystemCommand.activate("clock synchronization CA \(ca) to \(ElementNames.isoTime(stamp)) UTC",
                                              request: request, session: session, options: master)
        }
    }
}
