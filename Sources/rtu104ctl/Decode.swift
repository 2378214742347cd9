import ArgumentParser
import IEC104
import Master

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `rtu104ctl decode`: APDUs from hex or raw octets, printed for people or as JSON lines.
struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode IEC 60870-5-104 APDUs given as hex or as raw octets.",
        discussion: """
        Input, one of:
          hex arguments   68 0E 00 00 00 00 64 01 06 00 2F 00 00 00 00 14
                          680E00000000640106002F0000000014
                          0x68 0x0E ...   68:0e:...   68,0E,...
          standard input  hex text when no argument is given; frames may
                          be concatenated and span lines; '#' comments
          --file PATH     raw binary octets, APDUs back to back;
                          '--file -' reads them from standard input

        Prints each APDU: frame kind (I/S/U), N(S)/N(R) or U function, \
        type ID, SQ, number of objects, cause of transmission with P/N and \
        T, originator, common address, and each object's address, value, \
        quality and time tag.

        --json prints one object per APDU per line, keys in this order:
          frame ("I"/"S"/"U"), ns, nr, function (U), type, typeId, sq,
          count, cot, cotName, negative, test, originator, ca, objects,
          error (only for an ASDU that does not decode, instead of objects);
          per object: ioa, value, keys of the type, quality, time, timeFlags.

        Bad input (not hex, an odd number of digits, an invalid frame, an \
        ASDU that does not decode): the frames before it are printed, one \
        line goes to standard error, and the exit status is 1.
        """
    )

    @Flag(help: "Print one JSON object per APDU, one per line.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Read raw binary octets from a file ('-' for standard input).",
                                            valueName: "path"))
    var file: String?

    @Argument(help: ArgumentHelp("Hex octets; when none are given, hex text is read from standard input.",
                                 valueName: "hex"))
    var hex: [String] = []

    func validate() throws {
        if file != nil, !hex.isEmpty {
            throw ValidationError("Give hex arguments or --file, not both.")
        }
    }

    func run() throws {
        let format: OutputFormat = json ? .json : .text
        let error: String?
        if !hex.isEmpty {
            let report = Decoding.decodeArguments(hex, format: format)
            write(report.output)
            error = report.error
        } else if let file {
            error = decodeBinary(path: file, format: format)
        } else {
            error = decodeHexStandardInput(format: format)
        }
        if let error {
            reportError(error)
            throw ExitCode.failure
        }
    }

    /// Hex text, line by line, so that frames show up as soon as their line arrives.
    private func decodeHexStandardInput(format: OutputFormat) -> String? {
        if isatty(STDIN_FILENO) != 0 {
            reportError("reading hex from standard input; end with Ctrl-D")
        }
        var decoder = FrameStreamDecoder()
        var number = 0
        while let line = readLine(strippingNewline: true) {
            number += 1
            let step = Decoding.decodeHexLine(line, number: number, decoder: &decoder, format: format)
            write(step.output)
            if let error = step.error { return error }
        }
        return decoder.finish()
    }

    /// Raw octets in chunks, from a file or from standard input.
    private func decodeBinary(path: String, format: OutputFormat) -> String? {
        let descriptor = path == "-" ? STDIN_FILENO : open(path, O_RDONLY)
        guard descriptor >= 0 else { return "\(path): \(String(cString: strerror(errno)))" }
        defer { if descriptor != STDIN_FILENO { close(descriptor) } }
        var decoder = FrameStreamDecoder()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { SocketIO.readSome(descriptor, into: $0) }
            if count < 0 { return "\(path): \(String(cString: strerror(errno)))" }
            if count == 0 { break }
            let (frames, error) = decoder.feed(Array(buffer[..<count]))
            write(frames.map { format.format($0) + "\n" }.joined())
            if let error { return error }
        }
        return decoder.finish()
    }

    private func write(_ text: String) {
        writeStandardOutput(text)
    }
}
