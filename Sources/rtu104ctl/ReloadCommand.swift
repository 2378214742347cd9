import ArgumentParser

/// `rtu104ctl reload`: the same as SIGHUP.
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Ask a running rtu104d to read its configuration again.")

    @OptionGroup var options: ControlOptions

    func run() throws {
        try runControlRequest(options, ["op": "reload"]) { reply in
            (reply["message"] as? String ?? "configuration reloaded") + "\n"
        }
    }
}
