/// CSV point tables: a header row of the keys the JSON and INI tables take, then one point per row.
///
/// Each row becomes the members of one JSON entry (its non-empty cells as INI-like text, located at the
/// cell) and goes through the same reader, so that the three formats accept and refuse the same things.
/// Columns are checked once, at the header: an unknown column is one error there, not one per row.
extension PointTableReader {
    /// Every key a CSV header may name.
    static var csvColumns: [String] {
        var columns: [String] = []
        for key in commonKeys + monitorKeys + commandKeys where !columns.contains(key) { columns.append(key) }
        return columns
    }

    /// Keys whose cells hold lists: items separated by spaces or `|` (or commas inside quotes).
    static let csvListColumns: Set<String> = ["groups", "quality"]

    mutating func readCSV(_ text: String, file: String) {
        let (_, records, syntaxError) = CSVReader.parse(text)
        if let syntaxError {
            // As with JSON: a syntax error makes the file's only message, and none of its points are used.
            diagnostics.error(SourceLocation(file: file, line: syntaxError.line, column: syntaxError.column), syntaxError.message)
            return
        }
        guard let header = records.first else {
            diagnostics.error(SourceLocation(file: file, line: 1), "the CSV point table is empty; its first line names the columns, e.g. ca;ioa;name;type")
            return
        }
        // Which key each column holds; nil for columns that are ignored (header starting with #, or empty and unused).
        var keys: [String?] = []
        var usable = true
        let known = Self.csvColumns
        for field in header.fields {
            let location = SourceLocation(file: file, line: field.line, column: field.column)
            let name = field.text.lowercased()
            if name.hasPrefix("#") { keys.append(nil); continue }
            if name.isEmpty {
                diagnostics.error(location, "column \(field.column) has no name; name it after a point key or start its name with # to ignore it")
                keys.append(nil)
                usable = false
                continue
            }
            guard known.contains(name) else {
                diagnostics.error(location, "unknown column '\(field.text)'" + Suggestions.hint(for: name, in: known)
                                  + " (a column whose name starts with # is ignored)")
                keys.append(nil)
                usable = false
                continue
            }
            if let first = keys.firstIndex(of: name) {
                diagnostics.error(location, "column '\(name)' is named twice; it is already column \(first + 1)")
                keys.append(nil)
                usable = false
                continue
            }
            keys.append(name)
        }
        let headerLocation = SourceLocation(file: file, line: header.line)
        for required in ["ca", "ioa"] where !keys.contains(required) {
            diagnostics.error(headerLocation, "missing required column '\(required)'; the header names the columns, e.g. ca;ioa;name;type")
            usable = false
        }
        if !keys.contains("type"), !keys.contains("command") {
            diagnostics.error(headerLocation, "missing column 'type' (monitor points) or 'command' (command points); the header names the columns, e.g. ca;ioa;name;type")
            usable = false
        }
        // With columns in doubt every row would repeat the same complaint; the header's errors say it once.
        guard usable else { return }

        var members: [ConfigMember] = []
        members.reserveCapacity(keys.count)
        for record in records.dropFirst() {
            guard record.fields.count == keys.count else {
                let column = min(record.fields.count, keys.count) + 1
                diagnostics.error(SourceLocation(file: file, line: record.line, column: column),
                                  "the row has \(record.fields.count) field\(record.fields.count == 1 ? "" : "s"), the header \(keys.count); "
                                  + "check for a missing or extra separator, or put a field that holds one in double quotes")
                continue
            }
            members.removeAll(keepingCapacity: true)
            for (field, key) in zip(record.fields, keys) {
                guard let key, !field.text.isEmpty else { continue }
                let location = SourceLocation(file: file, line: field.line, column: field.column)
                var value = ConfigValue(.text(field.text), at: location)
                if Self.csvListColumns.contains(key) {
                    let items = field.text.split { $0 == " " || $0 == "|" || $0 == "," || $0 == "\t" }
                    value = ConfigValue(.array(items.map { ConfigValue(.text(String($0)), at: location) }), at: location)
                }
                members.append(ConfigMember(key: key, keyLocation: location, value: value))
            }
            // A row of empty cells (a spreadsheet's spacer) is no point.
            if members.isEmpty || members.allSatisfy({ $0.key == "comment" }) { continue }
            readJSONPoint(members, at: SourceLocation(file: file, line: record.line))
        }
    }
}
