/// A value read from an INI or JSON file, with the place it was written.
///
/// INI values are untyped text; JSON values carry their JSON type. The typed accessors in
/// `FieldReader` accept both, so that point tables mean the same in either format.
struct ConfigValue: Sendable {
    enum Content: Sendable {
        /// INI text (quotes removed), to be interpreted by the reader of the key.
        case text(String)
        case string(String)
        /// A JSON number and its literal spelling, which tells integers from fractions.
        case number(Double, literal: String)
        case bool(Bool)
        case null
        case array([ConfigValue])
        case object([ConfigMember])
    }

    var content: Content
    var location: SourceLocation

    init(_ content: Content, at location: SourceLocation) {
        self.content = content
        self.location = location
    }

    /// Scalars as text (for parsing and messages); nil for arrays, objects and null.
    var scalarText: String? {
        switch content {
        case .text(let text), .string(let text): text
        case .number(_, let literal): literal
        case .bool(let value): value ? "true" : "false"
        case .null, .array, .object: nil
        }
    }

    /// How the value reads in a message.
    var display: String {
        switch content {
        case .text(let text): text
        case .string(let text): "\"\(text)\""
        case .number(_, let literal): literal
        case .bool(let value): value ? "true" : "false"
        case .null: "null"
        case .array: "a list"
        case .object: "an object"
        }
    }
}

/// A key and its value in a JSON object or an INI section.
struct ConfigMember: Sendable {
    var key: String
    var keyLocation: SourceLocation
    var value: ConfigValue
}
