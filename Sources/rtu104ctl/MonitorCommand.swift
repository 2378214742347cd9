import ArgumentParser
import IEC104
import Master

/// `rtu104ctl monitor HOST [--count N] [--duration S] [--raw]`: everything the station sends, as it arrives.
struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Start data transfer and print every point the station sends, until interrupted.",
        discussion: """
        Every information object of every ASDU is printed as one row (table, csv or json), with \
        its cause of transmission; --raw adds the APDU in hex, and prints S- and U-frames too. \
        --interrogate sends a station interrogation first (to --ca, else broadcast). \
        Stops after --count points or --duration seconds, or on Ctrl-C. Exit status 0, or 2 \
        when the connection failed or was lost.
        """)

    @OptionGroup var master: MasterOptions

    @Option(help: ArgumentHelp("Stop after this many points.", valueName: "n"))
    var count: Int?

    @Option(help: ArgumentHelp("Stop after this many seconds.", valueName: "seconds"))
    var duration: Double?

    @Flag(help: "Show each APDU in hex next to its decoded form; S- and U-frames too.")
    var raw = false

    @Flag(help: "Send a station interrogation after STARTDT.")
    var interrogate = false

    @Option(help: "Output format: table, csv or json.")
    var format: PointFormat = .table

    func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be more than 0 seconds") }
    }

    func run() throws {
        try runMaster(master) { session in
            var printer = PointPrinter(format: format, raw: raw)
            if raw {
                session.controlFrameObserver = { apdu in
                    writeStandardOutput("\(apdu.apci)".padding(99) + " " + PointRowFormatter.hex(apdu.encoded) + "\n")
                }
            }
            if interrogate {
                try session.send(try Interrogation.generalRequest(group: nil, commonAddress: master.commonAddressOrBroadcast,
                                                                  originator: master.originator))
            }
            let end = duration.map { monotonicNow() + .milliseconds(Int64($0 * 1000)) }
            var seen = 0
            while count.map({ seen < $0 }) ?? true {
                // Wake now and then even without an end, so that the link timers run.
                let deadline = end ?? monotonicNow() + .seconds(3600)
                guard let apdu = try session.next(until: deadline) else {
                    if end != nil { break } else { continue }
                }
                guard let asdu = try? ASDU(decoding: apdu.asdu) else {
                    writeStandardOutput("undecodable ASDU: " + PointRowFormatter.hex(apdu.encoded) + "\n")
                    continue
                }
                for row in PointRow.rows(of: asdu, raw: raw ? apdu.encoded : nil) {
                    guard count.map({ seen < $0 }) ?? true else { break }
                    printer.print(row)
                    seen += 1
                }
            }
            master.progress("\(seen) point(s) received")
            return MasterExit.success
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { PointRowFormatter.pad(self, width) }
}
