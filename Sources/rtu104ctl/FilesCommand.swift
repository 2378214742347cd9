import ArgumentParser
import IEC104
import Master

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `rtu104ctl files list|get`: file transfer in monitor direction (IEC 60870-5-101 clause 7.4.11).
struct FilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files",
        abstract: "List a station's files (call directory) or download one (F_SC_NA_1 … F_AF_NA_1).",
        discussion: """
        list calls the directory (F_SC_NA_1, COT 5) of --ca, or of every common address with the broadcast \
        address 65535 (the default), and prints the files. get downloads the file at CA:IOA into FILE: it \
        writes FILE.part beside it as the segments arrive, checks each section's and the file's checksum \
        and the length, and renames FILE.part to FILE only when all of it matched.

        Exit status: 0 success; 1 the station refused or broke off the transfer, a checksum failed, no reply \
        within --timeout, or FILE could not be written; 2 no connection or connection lost; 64 usage error.
        """,
        subcommands: [FilesListCommand.self, FilesGetCommand.self])
}

/// Output of `files list`.
enum FileListFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Aligned columns for people.
    case table
    /// One JSON array of objects.
    case json
}

struct FilesListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Call the directory (F_SC_NA_1 COT 5) and print each file: CA:IOA, NOF, size, time, status.",
        discussion: """
        Without --ca the broadcast address 65535: every common address of the station answers with its own \
        directory, and the listing ends 0.5 s after the last one. A common address without files prints \
        "no files". Exit status: 0 listed (also when empty), 1 refused (e.g. unknown common address) or no \
        directory within --timeout, 2 no connection.
        """)

    @OptionGroup var master: MasterOptions

    @Option(help: "Output format: table or json (one array of objects).")
    var format: FileListFormat = .table

    func run() throws {
        try runMaster(master) { session in
            let ca = master.commonAddressOrBroadcast
            var listing = FileDirectoryListing(commonAddress: ca, originator: master.originator,
                                               timeout: master.timeoutDuration, now: monotonicNow())
            master.progress("call directory for CA \(ca) sent")
            switch try FileTransferRun.list(session, &listing) {
            case .success(let entries):
                writeStandardOutput(FileListOutput.render(entries, format: format))
                master.progress("\(entries.count) file(s)")
                return MasterExit.success
            case .failure(let error):
                reportError("files list CA \(ca): \(error)\(FileListOutput.hint(error, listing: true))")
                return MasterExit.refused
            }
        }
    }
}

struct FilesGetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Download the file at CA:IOA into FILE (select, call file, sections, segments, acknowledgements).",
        discussion: """
        Prints `CA:IOA NOF n: N octets, sha256 HEX, in T s` on success. A section whose checksum fails is \
        acknowledged negatively (cause 2) and called again, at most 3 times. --timeout is the longest wait for \
        the next step of the station. On any failure FILE.part is removed and FILE is left as it was.
        """)

    @OptionGroup var master: MasterOptions

    @Argument(help: ArgumentHelp("The file: CA:IOA (or IOA with --ca).", valueName: "ca:ioa"))
    var file: String

    @Option(name: .customLong("name"),
            help: ArgumentHelp("Name of file (NOF) to select; 0 takes whatever file the station has there.", valueName: "nof"))
    var nameOfFile: UInt16 = 0

    @Option(name: [.customShort("o"), .customLong("output")],
            help: ArgumentHelp("Where to save the file (FILE.part is written beside it first).", valueName: "file"))
    var output: String

    func validate() throws {
        let address = try parsePointAddress(file, defaultCommonAddress: master.commonAddress)
        guard address.ca != ASDU.broadcastAddress else {
            throw ValidationError("'\(file)': a file has one common address; 65535 is the broadcast address")
        }
        var status = stat()
        guard !output.isEmpty, !output.hasSuffix("/"), stat(output, &status) != 0 || status.st_mode & S_IFMT != S_IFDIR else {
            throw ValidationError("-o needs a file name, not a folder, e.g. -o record.cfg")
        }
    }

    func run() throws {
        let address = try parsePointAddress(file, defaultCommonAddress: master.commonAddress)
        let part: PartFile
        do throws(PartFileError) {
            part = try PartFile(path: output)
        } catch {
            reportError(error.description)
            throw ExitCode(MasterExit.refused)
        }
        defer { part.discard() }
        let label = "\(address.ca):\(address.ioa)"
        try runMaster(master) { session in
            let started = monotonicNow()
            var download = FileDownload(commonAddress: address.ca, address: address.ioa, nameOfFile: nameOfFile,
                                        originator: master.originator, timeout: master.timeoutDuration, now: started)
            master.progress("select file \(label) NOF \(nameOfFile == 0 ? "any" : String(nameOfFile)) sent")
            switch try FileTransferRun.get(session, &download, into: part, progress: master.progress) {
            case .success(let result):
                let digest: String
                do throws(PartFileError) {
                    digest = try part.commit()
                } catch {
                    reportError("files get \(label): \(error)")
                    return MasterExit.refused
                }
                let seconds = monotonicNow().duration(since: started).secondsDouble
                writeStandardOutput(FileListOutput.summary(ca: address.ca, ioa: address.ioa, result: result,
                                                           sha256: digest, seconds: seconds))
                return MasterExit.success
            case .failure(let message):
                reportError("files get \(label): \(message)")
                return MasterExit.refused
            }
        }
    }
}

/// The I/O loops around ``FileDirectoryListing`` and ``FileDownload``.
enum FileTransferRun {
    static func list(_ session: MasterSession,
                     _ listing: inout FileDirectoryListing) throws(MasterError) -> Result<[FileDirectoryListing.Entry], FileTransferError> {
        var actions = listing.start(now: monotonicNow())
        while true {
            for action in actions {
                switch action {
                case .send(let asdu): try session.send(try encode(asdu))
                case .done(let entries): return .success(entries)
                case .failed(let error): return .failure(error)
                }
            }
            guard let apdu = try session.next(until: listing.deadline) else {
                actions = listing.deadlineReached(now: monotonicNow())
                continue
            }
            guard let asdu = try? ASDU(decoding: apdu.asdu) else { actions = []; continue }
            actions = listing.received(asdu, now: monotonicNow())
        }
    }

    /// Runs the download into `part`; the failure is the operator's message.
    static func get(_ session: MasterSession, _ download: inout FileDownload, into part: PartFile,
                    progress: (String) -> Void) throws(MasterError) -> Result<FileDownload.Result, FailureText> {
        var actions = download.start(now: monotonicNow())
        var announced = false
        while true {
            for action in actions {
                var writeFailure: PartFileError?
                switch action {
                case .send(let asdu): try session.send(try encode(asdu))
                case .write(let offset, let bytes): writeFailure = attempt { () throws(PartFileError) in try part.write(bytes, at: offset) }
                case .truncate(let length):
                    writeFailure = attempt { () throws(PartFileError) in try part.truncate(length: length) }
                    progress("a section's checksum failed: called it again")
                case .done(let result): return .success(result)
                case .failed(let error):
                    return .failure(FailureText(error.description + FileListOutput.hint(error, anyName: download.nameOfFile == 0)))
                }
                if let writeFailure {
                    for case .send(let asdu) in download.cancel() { try? session.send(try encode(asdu)) }
                    return .failure(FailureText(writeFailure.description))
                }
            }
            if !announced, let length = download.lengthOfFile {
                announced = true
                progress("file ready: NOF \(download.nameOfFile), \(length) octets")
            }
            guard let apdu = try session.next(until: download.deadline) else {
                actions = download.deadlineReached(now: monotonicNow())
                continue
            }
            guard let asdu = try? ASDU(decoding: apdu.asdu) else { actions = []; continue }
            actions = download.received(asdu, now: monotonicNow())
        }
    }

    private static func attempt(_ body: () throws(PartFileError) -> Void) -> PartFileError? {
        do throws(PartFileError) {
            try body()
            return nil
        } catch {
            return error
        }
    }

    private static func encode(_ asdu: ASDU) throws(MasterError) -> [UInt8] {
        do throws(ASDUEncodingError) {
            return try asdu.encoded()
        } catch {
            throw .usage("cannot encode \(asdu.typeID.mnemonic): \(error)")
        }
    }
}

/// An operator message as a failure value.
struct FailureText: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What `files list` and `files get` print.
enum FileListOutput {
    static func status(_ status: FileStatus) -> String {
        if status.isDirectory { return "directory" }
        return status.isTransferActive ? "in transfer" : "ready"
    }

    /// Advice after a failure, where there is some: a station that wants the NOF, one that never answers
    /// call directory (lib60870-C's file server does not).
    static func hint(_ error: FileTransferError, listing: Bool = false, anyName: Bool = false) -> String {
        switch error {
        case .fileNotReady where anyName:
            " (if the station wants the file's own name, give it with --name NOF; files list shows it)"
        case .timeout where listing:
            " (some stations never answer call directory, e.g. lib60870-C's file server; files get works without it)"
        default: ""
        }
    }

    static func render(_ entries: [FileDirectoryListing.Entry], format: FileListFormat) -> String {
        switch format {
        case .table: table(entries)
        case .json: json(entries)
        }
    }

    /// `CA:IOA  NOF  SIZE  MODIFIED (UTC)  STATUS`, aligned; "no files" when there are none.
    static func table(_ entries: [FileDirectoryListing.Entry]) -> String {
        guard !entries.isEmpty else { return "no files\n" }
        var rows = [["CA:IOA", "NOF", "SIZE", "MODIFIED (UTC)", "STATUS"]]
        for item in entries {
            rows.append(["\(item.commonAddress):\(item.address)", "\(item.entry.nameOfFile)", "\(item.entry.lengthOfFile)",
                         ElementNames.isoTime(item.entry.time), status(item.entry.status)])
        }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var text = ""
        for row in rows {
            var line = ""
            for (column, cell) in row.enumerated() {
                let last = column == row.count - 1
                // Numbers right-aligned, as in the other tables.
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                if column == 1 || column == 2, row != rows[0] {
                    line += padding + cell
                } else {
                    line += last ? cell : cell + padding
                }
                if !last { line += "  " }
            }
            text += line + "\n"
        }
        return text
    }

    /// One JSON array: `[{"ca": 47, "ioa": 30001, "nof": 1, "size": 1234, "modified": "…", "status": "ready"}]`.
    static func json(_ entries: [FileDirectoryListing.Entry]) -> String {
        let objects = entries.map { item in
            "{\"ca\": \(item.commonAddress), \"ioa\": \(item.address), \"nof\": \(item.entry.nameOfFile), "
                + "\"size\": \(item.entry.lengthOfFile), \"modified\": \"\(ElementNames.isoTime(item.entry.time))\", "
                + "\"status\": \"\(status(item.entry.status))\", \"sof\": \(item.entry.status.octet)}"
        }
        return "[" + objects.joined(separator: ", ") + "]\n"
    }

    /// `47:30001 NOF 1: 1234 octets, sha256 …, in 0.42 s`.
    static func summary(ca: UInt16, ioa: UInt32, result: FileDownload.Result, sha256: String, seconds: Double) -> String {
        "\(ca):\(ioa) NOF \(result.nameOfFile): \(result.length) octets, sha256 \(sha256), in \(seconds.formatted2) s\n"
    }
}
