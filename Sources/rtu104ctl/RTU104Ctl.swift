import ArgumentParser

/// The operator's command-line tool for rtu104d.
///
/// One file per subcommand; add new ones (set, get, status, reload, watch, interrogate, command,
/// monitor, …) to `subcommands` below.
@main
struct RTU104Ctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtu104ctl",
        abstract: "Operator tool for the rtu104d IEC 60870-5-104 outstation.",
        subcommands: [Decode.self, SetCommand.self, GetCommand.self, StatusCommand.self, ReloadCommand.self, WatchCommand.self,
                      ConnectCommand.self, InterrogateCommand.self, ProcessCommand.self, MonitorCommand.self,
                      ReadCommand.self, ClockSyncCommand.self, TestCommand.self, ResetProcessCommand.self,
                      CompareCommand.self, BenchCommand.self]
    )
}
