import ArgumentParser
import IEC104
import Master

/// `rtu104ctl connect HOST[:PORT]`: the connectivity check behind every master subcommand.
struct ConnectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Connect to a station, start data transfer (STARTDT), report the times, and stop again.",
        discussion: """
        The options here are shared by every master subcommand (interrogate, command, monitor, \
        read, clock-sync, test, reset-process, compare, bench): --ca, --originator, k, w, t0-t3, \
        --bind (source address), --timeout, and the TLS options (--tls, --tls-ca, --tls-cert, \
        --tls-key), which are accepted but refused with "TLS is not available yet". \
        Exit status 0 when STARTDT was confirmed, 2 otherwise.
        """)

    @OptionGroup var master: MasterOptions

    func run() throws {
        let started = monotonicNow()
        try runMaster(master) { session in
            let total = monotonicNow().duration(since: started).secondsDouble * 1000
            let p = session.parameters
            writeStandardOutput("connected to \(session.endpoint): TCP \(session.connectMilliseconds.formatted2) ms, "
                                + "STARTDT con after \(total.formatted2) ms (k=\(p.k) w=\(p.w) t0=\(p.t0.seconds2) "
                                + "t1=\(p.t1.seconds2) t2=\(p.t2.seconds2) t3=\(p.t3.seconds2))\n")
            return MasterExit.success
        }
    }
}
