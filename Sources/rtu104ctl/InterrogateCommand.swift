import ArgumentParser
import IEC104
import Master

/// `rtu104ctl interrogate HOST [--group N] [--counters [--freeze] [--reset]] [--format table|csv|json]`
struct InterrogateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interrogate",
        abstract: "Interrogate a station (C_IC_NA_1, or C_CI_NA_1 with --counters) and print every point received.",
        discussion: """
        Prints CA, IOA, type, value, quality, time tag and cause of transmission of every point \
        as a table, as CSV or as JSON lines (--format). Progress and the summary go to standard error.

        --counters sends a counter interrogation: the general request, or group 1-4 with --group. \
        --freeze freezes the counters without reset (FRZ 1), --freeze --reset freezes with reset \
        (FRZ 2), --reset alone resets them (FRZ 3); a station answers these with ACTCON and ACTTERM \
        only, so read the frozen values with a plain --counters afterwards.

        The common address defaults to the broadcast address 65535; every common address of the \
        station then answers with its own ACTCON and ACTTERM.

        Exit status: 0 when every ACTCON was positive and its ACTTERM arrived, 1 on a negative \
        confirmation or when ACTTERM did not come within --timeout of the last frame, 2 when the \
        connection failed.
        """)

    @OptionGroup var master: MasterOptions

    @Option(help: ArgumentHelp("Interrogation group 1-16 (1-4 with --counters).", valueName: "n"))
    var group: Int?

    @Flag(help: "Counter interrogation (integrated totals) instead of station interrogation.")
    var counters = false

    @Flag(help: "With --counters: freeze the counters (FRZ 1; with --reset FRZ 2).")
    var freeze = false

    @Flag(help: "With --counters: reset the counters (FRZ 3; with --freeze FRZ 2).")
    var reset = false

    @Option(help: "Output format: table, csv or json (one object per line).")
    var format: PointFormat = .table

    @Flag(help: "Add each point's APDU in hex.")
    var raw = false

    func validate() throws {
        if let group {
            let range = counters ? 1...4 : 1...16
            guard range.contains(group) else {
                throw ValidationError("--group \(group) is outside \(range.lowerBound)...\(range.upperBound)"
                                      + (counters ? " for counter interrogation" : ""))
            }
        }
        if (freeze || reset) && !counters { throw ValidationError("--freeze and --reset need --counters") }
    }

    var freezeMode: CounterFreeze {
        switch (freeze, reset) {
        case (false, false): .read
        case (true, false): .freezeWithoutReset
        case (true, true): .freezeWithReset
        case (false, true): .reset
        }
    }

    func run() throws {
        try runMaster(master) { session in
            let ca = master.commonAddressOrBroadcast
            let request = counters
                ? try Interrogation.counterRequest(group: group, freeze: freezeMode, commonAddress: ca, originator: master.originator)
                : try Interrogation.generalRequest(group: group, commonAddress: ca, originator: master.originator)
            let what = counters ? "counter interrogation (\(freezeMode.name))" : "interrogation"
            master.progress("\(what)\(group.map { " of group \($0)" } ?? "") for CA \(ca) sent")
            var printer = PointPrinter(format: format, raw: raw)
            let outcome = try Interrogation.run(session, request: request, timeout: master.timeoutDuration, raw: raw) {
                printer.print($0)
            }
            master.progress(outcome.summary)
            if !outcome.complete {
                if outcome.refusals.isEmpty {
                    reportError(outcome.confirmed.isEmpty
                                ? "no ACTCON within \(master.timeout.formatted2) s"
                                : "no ACTTERM within \(master.timeout.formatted2) s of the last frame")
                } else {
                    reportError("the station refused the \(what): " + outcome.refusals.map(\.text).joined(separator: "; "))
                }
                return MasterExit.refused
            }
            return MasterExit.success
        }
    }
}

extension MasterOptions {
    var timeoutDuration: Duration { .milliseconds(Int64((timeout * 1000).rounded())) }
}
