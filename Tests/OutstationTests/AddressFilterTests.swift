import Testing
@testable import Outstation

private func ip(_ text: String) -> IPAddress {
    guard let address = IPAddress(text) else {
        Issue.record("\(text) does not parse")
        return IPAddress(high: 0, low: 0)
    }
    return address
}

private func filter(_ text: String) throws -> AddressFilter { try AddressFilter(parsing: text) }

@Suite("IPAddress")
struct IPAddressTests {
    @Test func ipv4IsHeldInTheMappedForm() {
        let address = ip("192.168.0.10")
        #expect(address.isIPv4)
        #expect(address.ipv4 == 0xC0A8_000A)
        #expect(address == IPAddress(ipv4: 0xC0A8_000A))
        #expect(address == ip("::ffff:192.168.0.10"))
        #expect(address == ip("::FFFF:c0a8:a"))
        #expect(address.high == 0)
        #expect(address.low == 0xFFFF_C0A8_000A)
        #expect(ip("::1").ipv4 == nil)
    }

    @Test(arguments: [
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"),  // the first of two equal runs
        ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"),                       // the longer run
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),                  // one zero group stays
        ("fe80::0001%eth0", "fe80::1"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("64:ff9b::10.0.0.1", "64:ff9b::a00:1"),
        ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
        ("::1.2.3.4", "::102:304"),
        ("::ffff:10.1.2.3", "10.1.2.3"),
    ])
    func descriptionIsCanonical(_ text: String, _ canonical: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == canonical)
        // And the canonical text reads back as the same address.
        #expect(IPAddress(canonical) == address)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-1", "1..2.3", "1.2.3.4a", "a.b.c.d", "1234.1.1.1",
                      ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "12345::", "g::1",
                      "1:2:3:4:5:6:7", "::1.2.3", "::1.2.3.256", " 1.2.3.4", "localhost",
                      "1.2.3.4::", "1.2.3.4::5", "1:1.2.3.4:1:1:1:1:1", "%::1", "%eth0"])
    func invalidTextDoesNotParse(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func orderingFollowsTheBits() {
        #expect(ip("10.0.0.1") < ip("10.0.0.2"))
        #expect(ip("::1") < ip("10.0.0.1"), "IPv4-mapped sorts after ::1")
        #expect(ip("10.0.0.1") < ip("2001:db8::1"))
    }
}

@Suite("AddressFilter")
struct AddressFilterTests {
    @Test func keywords() throws {
        #expect(try filter("any") == .any)
        #expect(try filter(" ANY ") == .any)
        #expect(try filter("*") == .any)
        #expect(try filter("others") == .others)
        #expect(try filter("Others") == .others)
        #expect(try filter("any").description == "any")
        #expect(try filter("others").description == "others")
    }

    @Test(arguments: [
        // (filter, matching, not matching)
        ("192.168.0.10", ["192.168.0.10", "::ffff:192.168.0.10"], ["192.168.0.11", "::1", "10.0.0.1"]),
        ("192.168.0.*", ["192.168.0.0", "192.168.0.255"], ["192.168.1.1", "::ffff:c0a8:100", "::c0a8:1"]),
        ("10.*.*.1", ["10.0.0.1", "10.200.3.1"], ["10.0.0.2", "11.0.0.1"]),
        ("*.*.*.*", ["0.0.0.0", "255.255.255.255"], ["::1", "2001:db8::1"]),
        ("10.0.0.0/8", ["10.0.0.0", "10.255.255.255"], ["11.0.0.0", "9.255.255.255"]),
        ("10.1.2.3/8", ["10.9.9.9"], ["11.1.2.3"]),
        ("192.168.4.0/22", ["192.168.4.1", "192.168.7.254"], ["192.168.8.1", "192.168.3.255"]),
        ("0.0.0.0/0", ["1.2.3.4", "255.0.0.1"], ["::1", "fe80::1"]),
        ("172.16.0.5/32", ["172.16.0.5"], ["172.16.0.4"]),
        ("::1", ["::1"], ["::2", "127.0.0.1"]),
        ("fd00::/8", ["fd00::1", "fdff:ffff::"], ["fc00::1", "fe80::1", "10.0.0.1"]),
        ("2001:db8::/32", ["2001:db8::", "2001:db8:ffff::1"], ["2001:db9::1"]),
        ("::/0", ["::1", "2001:db8::1", "10.0.0.1"], []),
        ("fe80::1%eth0", ["fe80::1"], ["fe80::2"]),
        ("10.0.0.1, 10.0.0.2 ,fd00::/8", ["10.0.0.1", "10.0.0.2", "fd12::3"], ["10.0.0.3"]),
    ])
    func patternsMatch(_ text: String, matching: [String], notMatching: [String]) throws {
        let parsed = try filter(text)
        for address in matching { #expect(parsed.matches(ip(address)), "\(text) should match \(address)") }
        for address in notMatching { #expect(!parsed.matches(ip(address)), "\(text) should not match \(address)") }
    }

    @Test func anyMatchesEverythingAndOthersNothingByItself() throws {
        for address in ["0.0.0.0", "10.0.0.1", "::1", "2001:db8::1"] {
            #expect(AddressFilter.any.matches(ip(address)))
            #expect(!AddressFilter.others.matches(ip(address)))
        }
    }

    @Test func listDescriptionKeepsTheWrittenPatterns() throws {
        #expect(try filter("10.0.0.0/8,  192.168.0.*").description == "10.0.0.0/8, 192.168.0.*")
    }

    @Test func cidrValueIsMaskedToItsPrefix() throws {
        let pattern = try AddressPattern(parsing: "10.1.2.3/8")
        #expect(pattern.value == ip("10.0.0.0"))
        #expect(pattern.description == "10.1.2.3/8")
        let v6 = try AddressPattern(parsing: "2001:db8:1::/33")
        #expect(v6.value == ip("2001:db8::"))
        #expect(v6.mask == IPAddress(high: 0xFFFF_FFFF_8000_0000, low: 0))
    }

    @Test(arguments: [
        ("any", "10.0.0.1", true),
        ("any", "any", true),
        ("any", "fd00::/8", true),
        ("others", "any", false),
        ("any", "others", false),
        ("others", "others", false),
        ("others", "10.0.0.1", false),
        ("10.0.0.*", "10.0.0.0/24", true),
        ("10.0.0.*", "10.0.1.0/24", false),
        ("10.0.0.*", "10.0.0.0/16", true),
        ("10.0.*.1", "10.0.5.0/24", true),
        ("10.0.*.1", "10.0.5.2", false),
        ("10.0.0.7", "10.0.0.0/29", true),
        ("10.0.0.8", "10.0.0.0/29", false),
        ("10.0.0.0/8", "11.0.0.0/8", false),
        ("192.168.0.0/24", "192.168.1.0/24", false),
        ("192.168.0.0/16", "192.168.1.0/24", true),
        ("10.0.0.1", "10.0.0.1", true),
        ("10.0.0.1", "10.0.0.2", false),
        ("10.0.0.0/8", "fd00::/8", false),
        ("*.*.*.*", "2001:db8::/32", false),
        ("::1", "127.0.0.1", false),
        ("0.0.0.0/0", "::ffff:10.0.0.1", true),
        ("10.0.0.1, 10.0.0.2", "10.0.0.3, 10.0.0.2", true),
        ("10.0.0.1, 10.0.0.2", "10.0.0.3, fd00::1", false),
    ])
    func overlapDetection(_ left: String, _ right: String, overlaps: Bool) throws {
        let a = try filter(left)
        let b = try filter(right)
        #expect(a.overlaps(b) == overlaps, "\(left) vs \(right)")
        #expect(b.overlaps(a) == overlaps, "overlap is symmetric")
    }

    @Test(arguments: [
        ("", AddressFilterError.empty),
        ("   ", .empty),
        (",", .empty),
        ("10.0.0.1, ,10.0.0.2", .empty),
        ("10.0.0.1,,10.0.0.2", .empty),
        ("10.0.0.1,", .empty),
        ("10.0.0.256", .invalid("10.0.0.256")),
        ("host.example", .invalid("host.example")),
        ("10.0.*", .invalid("10.0.*")),
        ("10.0.0.**", .invalid("10.0.0.**")),
        ("10.0.0.2*", .invalid("10.0.0.2*")),
        ("10.0.0.300/8", .invalid("10.0.0.300/8")),
        ("10.0.0.0/x", .invalid("10.0.0.0/x")),
        ("10.0.0.0/", .invalid("10.0.0.0/")),
        ("fd00::*", .invalid("fd00::*")),
        ("10.0.0.0/33", .invalidPrefix("10.0.0.0/33")),
        ("10.0.0.0/-1", .invalidPrefix("10.0.0.0/-1")),
        ("fd00::/129", .invalidPrefix("fd00::/129")),
        ("10.0.0.1, any", .keywordInList("any")),
        ("others,10.0.0.1", .keywordInList("others")),
    ])
    func invalidFilters(_ text: String, _ error: AddressFilterError) {
        #expect(throws: error) { try AddressFilter(parsing: text) }
    }

    @Test func errorsExplainThemselves() {
        #expect(AddressFilterError.empty.description.contains("any, others"))
        #expect(AddressFilterError.invalid("x").description.contains("'x'"))
        #expect(AddressFilterError.invalidPrefix("10.0.0.0/40").description.contains("prefix length"))
        #expect(AddressFilterError.keywordInList("any").description.contains("alone"))
    }
}
