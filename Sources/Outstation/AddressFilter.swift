/// Which master addresses a station admits: the DNP3 outstation-server model
/// (any, exact address, IPv4 wildcard, CIDR range, a list of these, or the listener's catch-all).
public enum AddressFilter: Hashable, Sendable, CustomStringConvertible {
    /// Every address; conflicts with every other filter on the listener.
    case any
    /// Addresses no other station on the listener admits; at most one per listener, never conflicts.
    case others
    /// A list of value/mask patterns (exact addresses, wildcards and CIDR ranges).
    case patterns([AddressPattern])

    /// Parses `any`, `others`, or a comma-separated list of `192.168.0.10`, `192.168.0.*`, `10.0.0.0/8`, `::1`, `fd00::/8`.
    public init(parsing text: String) throws(AddressFilterError) {
        let trimmed = text.trimmingWhitespace()
        switch trimmed.lowercased() {
        case "any", "*": self = .any
        case "others": self = .others
        default:
            let items = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
            guard !items.isEmpty, !items.contains(where: \.isEmpty) else { throw .empty }
            var patterns: [AddressPattern] = []
            for item in items {
                let lowered = item.lowercased()
                guard lowered != "any", lowered != "others" else { throw .keywordInList(item) }
                patterns.append(try AddressPattern(parsing: item))
            }
            self = .patterns(patterns)
        }
    }

    /// Whether `address` matches by itself (`others` matches nothing on its own).
    public func matches(_ address: IPAddress) -> Bool {
        switch self {
        case .any: true
        case .others: false
        case .patterns(let patterns): patterns.contains { $0.matches(address) }
        }
    }

    /// Whether some address matches both filters. `others` never conflicts.
    public func overlaps(_ other: AddressFilter) -> Bool {
        switch (self, other) {
        case (.others, _), (_, .others): false
        case (.any, _), (_, .any): true
        case (.patterns(let mine), .patterns(let theirs)):
            mine.contains { pattern in theirs.contains { pattern.overlaps($0) } }
        }
    }

    public var description: String {
        switch self {
        case .any: "any"
        case .others: "others"
        case .patterns(let patterns): patterns.map(\.description).joined(separator: ", ")
        }
    }
}

/// One address pattern: the addresses whose bits under `mask` equal `value`'s.
public struct AddressPattern: Hashable, Sendable, CustomStringConvertible {
    public let value: IPAddress
    public let mask: IPAddress
    public let description: String

    public init(parsing text: String) throws(AddressFilterError) {
        description = text
        if let slash = text.firstIndex(of: "/") {
            let addressText = text[..<slash]
            guard let address = IPAddress(addressText), let prefix = Int(text[text.index(after: slash)...]) else {
                throw .invalid(text)
            }
            let maximum = address.isIPv4 ? 32 : 128
            guard (0...maximum).contains(prefix) else { throw .invalidPrefix(text) }
            // IPv4 prefixes count within the mapped form's last 32 bits.
            let bits = address.isIPv4 ? 96 + prefix : prefix
            mask = Self.prefixMask(bits: bits)
            value = IPAddress(high: address.high & mask.high, low: address.low & mask.low)
        } else if text.contains("*") {
            let octets = text.split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 4 else { throw .invalid(text) }
            var address: UInt32 = 0
            var octetMask: UInt32 = 0
            for octet in octets {
                address <<= 8
                octetMask <<= 8
                if octet == "*" { continue }
                guard let number = UInt32(octet), number <= 255, octet.allSatisfy(\.isASCIIDigit) else { throw .invalid(text) }
                address |= number
                octetMask |= 0xFF
            }
            value = IPAddress(ipv4: address)
            mask = IPAddress(high: UInt64.max, low: 0xFFFF_FFFF_0000_0000 | UInt64(octetMask))
        } else {
            guard let address = IPAddress(text) else { throw .invalid(text) }
            value = address
            mask = IPAddress(high: .max, low: .max)
        }
    }

    static func prefixMask(bits: Int) -> IPAddress {
        func word(_ count: Int) -> UInt64 { count <= 0 ? 0 : count >= 64 ? .max : ~(UInt64.max >> UInt64(count)) }
        return IPAddress(high: word(bits), low: word(bits - 64))
    }

    public func matches(_ address: IPAddress) -> Bool {
        address.high & mask.high == value.high && address.low & mask.low == value.low
    }

    /// Two patterns share an address when they agree on every bit both of them fix.
    public func overlaps(_ other: AddressPattern) -> Bool {
        (value.high ^ other.value.high) & mask.high & other.mask.high == 0
            && (value.low ^ other.value.low) & mask.low & other.mask.low == 0
    }
}

public enum AddressFilterError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case invalid(String)
    case invalidPrefix(String)
    case keywordInList(String)

    public var description: String {
        switch self {
        case .empty: "the address filter is empty; use any, others, or a list of addresses"
        case .invalid(let text): "'\(text)' is not an IP address, an IPv4 wildcard like 192.168.0.* or a CIDR range"
        case .invalidPrefix(let text): "'\(text)' has a prefix length outside the address family's range"
        case .keywordInList(let text): "'\(text)' cannot be part of a list; use it alone"
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
