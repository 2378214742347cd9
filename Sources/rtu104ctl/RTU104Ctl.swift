import ArgumentParser
import BuildInfo

/// The operator's command-line tool for rtu104d.
///
/// One file per subcommand; add new ones (set, get, status, reload, watch, interrogate, command,
/// monitor, …) to `subcommands` below.
@main
struct RTU104Ctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtu104ctl",
        abstract: "Operator tool for the rtu104d IEC 60870-5-104 outstation.",
        // One paragraph per line: ArgumentParser wraps them to the terminal, so hard breaks would make ragged text.
        discussion: """
        set, get, watch, status, reload and exec talk to a running rtu104d over its control socket; \
        interrogate, command, monitor, read, clock-sync, test, reset-process, compare, bench and files are an \
        IEC 104 master that connects to any outstation; points lists the points of a configuration without a daemon.

        Commissioning: run master subcommands against a local-tools listener (a listener or station for \
        127.0.0.1 that is not the SCADA master's). A connection from the SCADA master's own address takes over \
        its station and disconnects the master. To test a command point's handler without any master, use \
        `rtu104ctl exec CA:IOA VALUE [--select]`.

        Exit status: 0 success; 1 negative or failed (a refused request, a negative confirmation, differences \
        found); 2 no connection (daemon or station unreachable, connection lost); 64 usage error.
        """,
        version: "rtu104ctl \(rtu104VersionText)",
        subcommands: [Decode.self, SetCommand.self, GetCommand.self, StatusCommand.self, ReloadCommand.self, WatchCommand.self,
                      ExecCommand.self,
                      InteropDocCommand.self,
                      ConnectCommand.self, InterrogateCommand.self, ProcessCommand.self, MonitorCommand.self,
                      ReadCommand.self, ClockSyncCommand.self, TestCommand.self, ResetProcessCommand.self,
                      CompareCommand.self, BenchCommand.self, FilesCommand.self, PointsCommand.self]
    )
}
