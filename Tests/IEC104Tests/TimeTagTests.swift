import IEC104
import PropertyBased
import Testing
import TestSupport

@Suite("Time tags")
struct TimeTagTests {
    struct Instant: Sendable, CustomTestStringConvertible {
        let iso: String
        let unixMilliseconds: Int64
        let time: CP56Time2a
        var testDescription: String { iso }
    }

    /// Unix milliseconds computed independently (Python's datetime); day of week 1 = Monday … 7 = Sunday.
    static let instants: [Instant] = [
        Instant(iso: "2026-11-22T04:57:51.123Z", unixMilliseconds: 1_795_323_471_123,
                time: CP56Time2a(year: 26, month: 11, dayOfMonth: 22, hour: 4, minute: 57, milliseconds: 51_123, dayOfWeek: 7)),
        Instant(iso: "2000-01-01T00:00:00.000Z", unixMilliseconds: 946_684_800_000,
                time: CP56Time2a(year: 0, month: 1, dayOfMonth: 1, hour: 0, minute: 0, milliseconds: 0, dayOfWeek: 6)),
        Instant(iso: "2000-02-29T00:00:00.000Z", unixMilliseconds: 951_782_400_000,
                time: CP56Time2a(year: 0, month: 2, dayOfMonth: 29, hour: 0, minute: 0, milliseconds: 0, dayOfWeek: 2)),
        Instant(iso: "2024-02-29T12:34:56.789Z", unixMilliseconds: 1_709_210_096_789,
                time: CP56Time2a(year: 24, month: 2, dayOfMonth: 29, hour: 12, minute: 34, milliseconds: 56_789, dayOfWeek: 4)),
        Instant(iso: "2099-12-31T23:59:59.999Z", unixMilliseconds: 4_102_444_799_999,
                time: CP56Time2a(year: 99, month: 12, dayOfMonth: 31, hour: 23, minute: 59, milliseconds: 59_999, dayOfWeek: 4)),
    ]

    @Test("known instants convert both ways", arguments: instants)
    func knownInstants(_ instant: Instant) {
        #expect(CP56Time2a(unixMilliseconds: instant.unixMilliseconds) == instant.time)
        #expect(instant.time.unixMilliseconds() == instant.unixMilliseconds)
    }

    @Test("the Unix epoch in the 1900s century")
    func epoch() {
        let time = CP56Time2a(unixMilliseconds: 0)
        #expect(time == CP56Time2a(year: 70, month: 1, dayOfMonth: 1, hour: 0, minute: 0, milliseconds: 0, dayOfWeek: 4))
        #expect(time.unixMilliseconds(century: 1900) == 0)
        // Before the epoch: 1969-12-31T23:59:59.999Z, a Wednesday.
        #expect(CP56Time2a(unixMilliseconds: -1)
                == CP56Time2a(year: 69, month: 12, dayOfMonth: 31, hour: 23, minute: 59, milliseconds: 59_999, dayOfWeek: 3))
    }

    @Test("IV and SU pass through the conversion")
    func flags() {
        let time = CP56Time2a(unixMilliseconds: 1_795_323_471_123, isInvalid: true, isSummerTime: true)
        #expect(time.isInvalid && time.isSummerTime && !time.isSubstituted)
        #expect(time.unixMilliseconds() == 1_795_323_471_123)
    }

    @Test("every instant of 2000–2099 survives the round trip, with a consistent day of week")
    func roundTrip() async {
        let start: Int64 = 946_684_800_000  // 2000-01-01T00:00:00Z, a Saturday
        let end: Int64 = 4_102_444_800_000  // 2100-01-01T00:00:00Z
        await propertyCheck(count: 2000, input: Gen.int64(in: start..<end)) { milliseconds in
            let time = CP56Time2a(unixMilliseconds: milliseconds)
            #expect(time.unixMilliseconds() == milliseconds)
            let days = (milliseconds - start) / 86_400_000
            #expect(Int64(time.dayOfWeek) == (days + 5) % 7 + 1)  // day 0 is Saturday (6)
            #expect((1...7).contains(time.dayOfWeek))
            #expect(time.year <= 99 && (1...12).contains(time.month) && (1...31).contains(time.dayOfMonth))
            #expect(time.hour <= 23 && time.minute <= 59 && time.milliseconds <= 59_999)
            // And through the wire format.
            var bytes: [UInt8] = []
            time.encode(into: &bytes)
            #expect(bytes.count == CP56Time2a.encodedSize)
            let decoded = try ASDU(decoding: hex("67 01 06 00 01 00 00 00 00") + bytes)
            #expect(decoded.objects.first?.element == .clockSynchronization(time))
        }
    }

    @Test("every valid field combination survives encode and decode")
    func encodeDecode() async {
        await propertyCheck(count: 1000, input: Generators.cp56) { time in
            var bytes: [UInt8] = []
            time.encode(into: &bytes)
            let decoded = try ASDU(decoding: hex("67 01 06 00 01 00 00 00 00") + bytes)
            #expect(decoded.objects.first?.element.time == time)
        }
    }

    @Test("impossible dates convert to nil", arguments: [
        CP56Time2a(year: 26, month: 2, dayOfMonth: 30, hour: 0, minute: 0, milliseconds: 0),
        CP56Time2a(year: 26, month: 2, dayOfMonth: 29, hour: 0, minute: 0, milliseconds: 0),  // 2026 is no leap year
        CP56Time2a(year: 26, month: 4, dayOfMonth: 31, hour: 0, minute: 0, milliseconds: 0),
        CP56Time2a(year: 26, month: 0, dayOfMonth: 1, hour: 0, minute: 0, milliseconds: 0),
        CP56Time2a(year: 26, month: 13, dayOfMonth: 1, hour: 0, minute: 0, milliseconds: 0),
        CP56Time2a(year: 26, month: 1, dayOfMonth: 0, hour: 0, minute: 0, milliseconds: 0),
        CP56Time2a(year: 26, month: 1, dayOfMonth: 1, hour: 24, minute: 0, milliseconds: 0),
        CP56Time2a(year: 26, month: 1, dayOfMonth: 1, hour: 0, minute: 60, milliseconds: 0),
        CP56Time2a(year: 26, month: 1, dayOfMonth: 1, hour: 0, minute: 0, milliseconds: 60_000),
    ])
    func impossibleDates(time: CP56Time2a) {
        #expect(time.unixMilliseconds() == nil)
    }

    @Test("leap years follow the Gregorian rules of the chosen century")
    func leapYears() {
        let february29 = CP56Time2a(year: 0, month: 2, dayOfMonth: 29, hour: 0, minute: 0, milliseconds: 0)
        #expect(february29.unixMilliseconds(century: 2000) == 951_782_400_000)
        #expect(february29.unixMilliseconds(century: 1900) == nil)  // 1900 is not a leap year
        #expect(february29.unixMilliseconds(century: 2100) == nil)
        #expect(CP56Time2a(year: 24, month: 2, dayOfMonth: 29, hour: 0, minute: 0, milliseconds: 0).unixMilliseconds() != nil)
    }

    @Test("CP56Time2a octets")
    func cp56Octets() {
        var bytes: [UInt8] = []
        vectorTime.encode(into: &bytes)
        #expect(bytes == hex(vectorTimeOctets))
        var flagged = vectorTime
        flagged.isInvalid = true
        flagged.isSummerTime = true
        flagged.isSubstituted = true
        bytes = []
        flagged.encode(into: &bytes)
        #expect(bytes == hex("B3 C7 F9 84 F6 0B 1A"))
        // All five hour bits, all five day bits, four month bits, seven year bits.
        bytes = []
        CP56Time2a(unixMilliseconds: 4_102_444_799_999).encode(into: &bytes)
        #expect(bytes == hex("5F EA 3B 17 9F 0C 63"))
    }

    @Test("CP56Time2a description")
    func cp56Description() {
        #expect(vectorTime.description == "2026-11-22 04:57:51.123")
        let flagged = CP56Time2a(year: 5, month: 3, dayOfMonth: 7, hour: 8, minute: 9, milliseconds: 1_002,
                                 isInvalid: true, isSummerTime: true, isSubstituted: true)
        #expect(flagged.description == "2005-03-07 08:09:01.002 IV SU SB")
    }

    // MARK: CP24Time2a

    @Test("CP24Time2a encodes and decodes", arguments: [
        (CP24Time2a(minute: 0, milliseconds: 0), "00 00 00"),
        (CP24Time2a(minute: 59, milliseconds: 59_999), "5F EA 3B"),
        (CP24Time2a(minute: 59, milliseconds: 59_999, isInvalid: true, isSubstituted: true), "5F EA FB"),
        (CP24Time2a(minute: 30, milliseconds: 1_500, isInvalid: true), "DC 05 9E"),
    ])
    func cp24(time: CP24Time2a, octets: String) throws {
        var bytes: [UInt8] = []
        time.encode(into: &bytes)
        #expect(bytes == hex(octets))
        #expect(bytes.count == CP24Time2a.encodedSize)
        #expect(try CP24Time2a(decoding: hex(octets)) == time)
    }

    @Test("CP24Time2a rejects reserved values and short input")
    func cp24Errors() {
        #expect(throws: ASDUError.reservedValue(field: "CP24Time2a milliseconds", value: 60_000)) {
            try CP24Time2a(decoding: hex("60 EA 00"))
        }
        #expect(throws: ASDUError.reservedValue(field: "CP24Time2a minute", value: 60)) {
            try CP24Time2a(decoding: hex("00 00 3C"))
        }
        #expect(throws: ASDUError.truncated(needed: 3, available: 2)) { try CP24Time2a(decoding: hex("00 00")) }
        #expect(CP24Time2a(minute: 1, milliseconds: 2_003, isInvalid: true).description == "mm:ss.fff 01:02.003 IV")
    }

    // MARK: CP16Time2a

    @Test("CP16Time2a encodes and decodes", arguments: [
        (UInt16(0), "00 00"), (1500, "DC 05"), (12_345, "39 30"), (59_999, "5F EA"),
    ])
    func cp16(milliseconds: UInt16, octets: String) throws {
        var bytes: [UInt8] = []
        CP16Time2a(milliseconds: milliseconds).encode(into: &bytes)
        #expect(bytes == hex(octets))
        #expect(bytes.count == CP16Time2a.encodedSize)
        let asdu = try ASDU(decoding: hex("6A 01 06 00 01 00 00 00 00 \(octets)"))
        #expect(asdu.objects.first?.element == .delayAcquisition(CP16Time2a(milliseconds: milliseconds)))
        #expect(CP16Time2a(milliseconds: milliseconds).description == "\(milliseconds) ms")
    }
}
