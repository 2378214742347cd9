import IEC104

/// The fields of a file-transfer element, named once for both the text and the JSON decoder output.
enum FileElementFields {
    enum Value {
        case int(Int)
        case text(String)
        case flag(Bool)
    }

    static func fields(_ element: InformationElement) -> [(String, Value)]? {
        switch element {
        case .fileReady(let ready):
            [("nof", .int(Int(ready.nameOfFile))), ("lof", .int(Int(ready.lengthOfFile))),
             ("ready", .flag(!ready.qualifier.isNegative))]
        case .sectionReady(let ready):
            [("nof", .int(Int(ready.nameOfFile))), ("nos", .int(Int(ready.nameOfSection))),
             ("lof", .int(Int(ready.lengthOfSection))), ("ready", .flag(!ready.qualifier.isNegative))]
        case .fileCall(let call):
            [("nof", .int(Int(call.nameOfFile))), ("nos", .int(Int(call.nameOfSection))),
             ("scq", .text(call.qualifier.action.name))] + cause(call.qualifier.cause)
        case .lastSection(let last):
            [("nof", .int(Int(last.nameOfFile))), ("nos", .int(Int(last.nameOfSection))),
             ("lsq", .text(last.qualifier.name)), ("chs", .int(Int(last.checksum)))]
        case .fileAcknowledgement(let ack):
            [("nof", .int(Int(ack.nameOfFile))), ("nos", .int(Int(ack.nameOfSection))),
             ("afq", .text(ack.qualifier.action.name))] + cause(ack.qualifier.cause)
        case .segment(let segment):
            [("nof", .int(Int(segment.nameOfFile))), ("nos", .int(Int(segment.nameOfSection))),
             ("los", .int(segment.data.count))]
        case .directoryEntry(let entry):
            [("nof", .int(Int(entry.nameOfFile))), ("lof", .int(Int(entry.lengthOfFile))),
             ("status", .int(Int(entry.status.status))), ("lastFile", .flag(entry.status.isLastFileOfDirectory)),
             ("directory", .flag(entry.status.isDirectory)), ("active", .flag(entry.status.isTransferActive))]
        case .queryLog(let nameOfFile, let start, let stop):
            [("nof", .int(Int(nameOfFile))), ("from", .text(ElementNames.isoTime(start))),
             ("to", .text(ElementNames.isoTime(stop)))]
        default:
            nil
        }
    }

    private static func cause(_ cause: FileErrorCause) -> [(String, Value)] {
        cause == .none ? [] : [("cause", .text(cause.name))]
    }

    /// `nof=1 lof=800 ready=yes`, the text decoder's form.
    static func text(_ fields: [(String, Value)]) -> String {
        fields.map { name, value in
            switch value {
            case .int(let number): "\(name)=\(number)"
            case .text(let text): "\(name)=\(text.contains(" ") ? "\"\(text)\"" : text)"
            case .flag(let flag): "\(name)=\(flag ? "yes" : "no")"
            }
        }.joined(separator: " ")
    }

    static func json(_ fields: [(String, Value)]) -> [(String, JSONValue)] {
        fields.map { name, value in
            switch value {
            case .int(let number): (name, .int(number))
            case .text(let text): (name, .string(text))
            case .flag(let flag): (name, .bool(flag))
            }
        }
    }
}
