import IEC104

/// One APDU cut from the input, with its ASDU decoded as far as it goes.
struct DecodedFrame: Sendable {
    /// 1-based position in the input.
    var number: Int
    /// Octet offset of the start byte in the input.
    var offset: Int
    var apdu: APDU
    /// The ASDU header of an I-frame, when at least its six octets are there.
    var header: ASDUHeader?
    /// The decoded ASDU of an I-frame; nil for S- and U-frames and when ``asduError`` is set.
    var asdu: ASDU?
    var asduError: ASDUError?

    init(number: Int, offset: Int, apdu: APDU) {
        self.number = number
        self.offset = offset
        self.apdu = apdu
        guard case .information = apdu.apci else { return }
        header = try? ASDUHeader(decoding: apdu.asdu)
        do {
            asdu = try ASDU(decoding: apdu.asdu)
        } catch {
            asduError = error
        }
    }

    /// The stderr message when the ASDU does not decode, e.g. `frame 2: ASDU: CP56Time2a minute has the reserved value 60`.
    var errorMessage: String? {
        guard let asduError else { return nil }
        let text = asduError.description
        return text.hasPrefix("ASDU ") ? "frame \(number): \(text)" : "frame \(number): ASDU: \(text)"
    }
}

/// Cuts a byte stream into APDUs, however it arrives, and stops at the first bad frame.
///
/// Framing uses the codec's `StreamFramer` with the `close` policy, so an invalid frame ends the input
/// just as it would end a connection.
struct FrameStreamDecoder: Sendable {
    private var framer = StreamFramer(policy: .close)
    /// The octets the framer holds but has not returned, kept to explain a truncated last frame.
    private var tail: [UInt8] = []
    /// Frames returned so far.
    private(set) var frameCount = 0
    /// Octets consumed by complete frames.
    private(set) var offset = 0
    /// Set after the first error; later input is ignored.
    private(set) var failed = false

    /// The frames completed by `bytes`, and the error that ended the stream, if any.
    ///
    /// A frame whose ASDU does not decode is returned (so its APCI and header can be shown)
    /// together with its error.
    mutating func feed(_ bytes: [UInt8]) -> (frames: [DecodedFrame], error: String?) {
        guard !failed else { return ([], nil) }
        framer.append(bytes)
        tail.append(contentsOf: bytes)
        var frames: [DecodedFrame] = []
        while true {
            let apdu: APDU?
            do {
                apdu = try framer.next()
            } catch {
                failed = true
                return (frames, "frame \(frameCount + 1): \(error) (input octet \(offset))")
            }
            guard let apdu else { break }
            frameCount += 1
            let frame = DecodedFrame(number: frameCount, offset: offset, apdu: apdu)
            offset += APCI.headerLength + apdu.asdu.count
            frames.append(frame)
            if let message = frame.errorMessage {
                failed = true
                return (frames, message)
            }
        }
        tail.removeFirst(tail.count - framer.bufferedByteCount)
        return (frames, nil)
    }

    /// The error for octets left over at the end of the input, or for an input without any frame.
    mutating func finish() -> String? {
        guard !failed else { return nil }
        failed = true
        if tail.isEmpty {
            return frameCount == 0 ? "no input: give hex octets as arguments, on standard input or with --file" : nil
        }
        let number = frameCount + 1
        if tail.count < 2 {
            return "frame \(number): the input ends after its start octet (input octet \(offset))"
        }
        let total = Int(tail[1]) + 2
        return "frame \(number): the input ends after \(tail.count) of its \(total) octets (input octet \(offset))"
    }
}

/// What a decode run prints: standard output and, on failure, one line for standard error (without the
/// `rtu104ctl: ` prefix).
struct DecodeReport: Hashable, Sendable {
    var output: String
    var error: String?
}

enum OutputFormat: Sendable {
    case text
    case json

    func format(_ frame: DecodedFrame) -> String {
        switch self {
        case .text: APDUTextFormatter.format(frame)
        case .json: APDUJSONFormatter.format(frame)
        }
    }
}

/// Decodes complete inputs in one go: the pure core of `rtu104ctl decode`, used by the tests.
enum Decoding {
    /// Decodes octets, e.g. from a binary file.
    static func decode(_ bytes: [UInt8], format: OutputFormat) -> DecodeReport {
        var decoder = FrameStreamDecoder()
        var lines: [String] = []
        let (frames, error) = decoder.feed(bytes)
        lines.append(contentsOf: frames.map(format.format))
        let report = error ?? decoder.finish()
        return DecodeReport(output: lines.map { $0 + "\n" }.joined(), error: report)
    }

    /// Decodes hex text, e.g. what `decode` reads from standard input; hex errors name the line.
    static func decodeHex(_ text: String, format: OutputFormat) -> DecodeReport {
        var decoder = FrameStreamDecoder()
        var output = ""
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let step = decodeHexLine(String(line), number: lineNumber, decoder: &decoder, format: format)
            output += step.output
            if let error = step.error { return DecodeReport(output: output, error: error) }
        }
        return DecodeReport(output: output, error: decoder.finish())
    }

    /// One line of hex text fed to a running decoder: the frames it completes and any error.
    static func decodeHexLine(_ line: String, number: Int, decoder: inout FrameStreamDecoder,
                              format: OutputFormat) -> DecodeReport {
        let bytes: [UInt8]
        do throws(HexParseError) {
            bytes = try HexParser.parse(line)
        } catch {
            return DecodeReport(output: "", error: "line \(number), column \(error.column): \(error)")
        }
        let (frames, error) = decoder.feed(bytes)
        return DecodeReport(output: frames.map { format.format($0) + "\n" }.joined(), error: error)
    }

    /// Decodes command-line arguments, each holding one or more hex octets; hex errors name the argument.
    static func decodeArguments(_ arguments: [String], format: OutputFormat) -> DecodeReport {
        var bytes: [UInt8] = []
        for (index, argument) in arguments.enumerated() {
            do throws(HexParseError) {
                bytes += try HexParser.parse(argument)
            } catch {
                let location = error.line > 1 ? "line \(error.line), column \(error.column)" : "column \(error.column)"
                return DecodeReport(output: "", error: "argument \(index + 1), \(location): \(error)")
            }
        }
        return decode(bytes, format: format)
    }
}
