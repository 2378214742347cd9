/// A small RFC 4180 reader that keeps the line and column of every field.
///
/// Written by hand rather than taken from SwiftCSV or CSV.swift: neither reports where a field was written
/// (they hand out rows of strings), and every message about a point table must name its file, line and
/// column. It works on the UTF-8 bytes (separators and quotes are ASCII, so no byte of a multi-byte
/// character can be mistaken for one), which keeps a 100,000-row table well under the time of the rest of
/// the loading.
///
/// - Fields are separated by `;` or `,`: whichever of the two appears more often outside quotes in the
///   first line (the header); `,` when neither does.
/// - A field in double quotes may hold separators, line breaks and `""` for one quote.
/// - Lines end in LF or CRLF; a byte order mark at the start is skipped; blank lines are skipped.
/// - Unquoted fields are trimmed of spaces and tabs; quoted ones are kept as written.
/// - The column of a field is its number in the row (1 for the first), as a spreadsheet counts columns.
struct CSVReader {
    struct Field {
        var text: String
        /// Where the field starts: its line (a quoted field may span several) and its number in the row.
        var line: Int
        var column: Int
    }

    struct Record {
        /// The line the record starts on.
        var line: Int
        var fields: [Field]
    }

    struct SyntaxError: Error {
        var line: Int
        var column: Int
        var message: String
    }

    /// The records of `text` in order, or the first syntax error (after which nothing can be trusted).
    static func parse(_ text: String) -> (separator: UInt8, records: [Record], error: SyntaxError?) {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    static func parse(bytes: UnsafeBufferPointer<UInt8>) -> (separator: UInt8, records: [Record], error: SyntaxError?) {
        let quote = UInt8(ascii: "\""), newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        var index = 0
        let end = bytes.count
        if end >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        let separator = detectSeparator(bytes, from: index)

        var records: [Record] = []
        var fields: [Field] = []
        var line = 1
        var recordLine = 1
        var scratch: [UInt8] = []

        func string(_ start: Int, _ stop: Int) -> String {
            var low = start, high = stop
            while low < high, bytes[low] == space || bytes[low] == tab { low += 1 }
            while high > low, bytes[high - 1] == space || bytes[high - 1] == tab { high -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[low..<high]), as: UTF8.self)
        }

        func finishRecord() {
            // A line with nothing on it is no record.
            if !(fields.count == 1 && fields[0].text.isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
            fields.removeAll(keepingCapacity: true)
        }

        var atRecordStart = true
        while index < end {
            if atRecordStart { recordLine = line; atRecordStart = false }
            let column = fields.count + 1
            let fieldLine = line
            // Leading blanks before an opening quote are allowed.
            var probe = index
            while probe < end, bytes[probe] == space || bytes[probe] == tab { probe += 1 }
            if probe < end, bytes[probe] == quote {
                index = probe + 1
                scratch.removeAll(keepingCapacity: true)
                var closed = false
                while index < end {
                    let byte = bytes[index]
                    if byte == quote {
                        if index + 1 < end, bytes[index + 1] == quote {
                            scratch.append(quote)
                            index += 2
                            continue
                        }
                        index += 1
                        closed = true
                        break
                    }
                    if byte == newline { line += 1 }
                    scratch.append(byte)
                    index += 1
                }
                guard closed else {
                    return (separator, records, SyntaxError(line: fieldLine, column: column,
                                                           message: "the quoted field is never closed; a quote inside a quoted field is written twice (\"\")"))
                }
                while index < end, bytes[index] == space || bytes[index] == tab { index += 1 }
                fields.append(Field(text: String(decoding: scratch, as: UTF8.self), line: fieldLine, column: column))
                if index < end, bytes[index] == carriageReturn, index + 1 < end, bytes[index + 1] == newline { index += 1 }
                if index >= end { break }
                let next = bytes[index]
                index += 1
                if next == separator { continue }
                if next == newline {
                    line += 1
                    finishRecord()
                    atRecordStart = true
                    continue
                }
                return (separator, records, SyntaxError(line: line, column: column,
                                                       message: "text after the closing quote; put the whole field in quotes and write a quote inside it twice (\"\")"))
            }
            // An unquoted field runs to the next separator or line end.
            let start = index
            while index < end {
                let byte = bytes[index]
                if byte == separator || byte == newline { break }
                if byte == quote {
                    return (separator, records, SyntaxError(line: line, column: column,
                                                           message: "a quote inside an unquoted field; put the whole field in quotes and write the quote twice (\"\")"))
                }
                index += 1
            }
            var stop = index
            if stop > start, bytes[stop - 1] == carriageReturn { stop -= 1 }
            fields.append(Field(text: string(start, stop), line: fieldLine, column: column))
            if index >= end { break }
            let next = bytes[index]
            index += 1
            if next == newline {
                line += 1
                finishRecord()
                atRecordStart = true
            } else if index >= end {
                // A separator at the very end: one more, empty, field.
                fields.append(Field(text: "", line: line, column: column + 1))
            }
        }
        if !fields.isEmpty { finishRecord() }
        return (separator, records, nil)
    }

    /// `;` or `,`, whichever the first line has more of outside quotes.
    static func detectSeparator(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> UInt8 {
        var semicolons = 0, commas = 0, quoted = false
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            else if !quoted {
                if byte == UInt8(ascii: "\n") { break }
                if byte == UInt8(ascii: ";") { semicolons += 1 }
                if byte == UInt8(ascii: ",") { commas += 1 }
            }
            index += 1
        }
        return semicolons > commas ? UInt8(ascii: ";") : UInt8(ascii: ",")
    }
}
