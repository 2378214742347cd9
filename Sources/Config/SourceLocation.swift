/// Where a value was written: a file, a 1-based line and, for JSON, a 1-based column.
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int?

    public init(file: String, line: Int, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line` or `file:line:column`, the form editors and compilers use; just `file` for line 0
    /// (a problem with the file as a whole).
    public var description: String {
        if line == 0 { return file }
        if let column { return "\(file):\(line):\(column)" }
        return "\(file):\(line)"
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.file, lhs.line, lhs.column ?? 0) < (rhs.file, rhs.line, rhs.column ?? 0)
    }
}
