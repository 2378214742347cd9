/// CP56Time2a, the seven-octet binary time of IEC 60870-5-101 clause 7.2.6.18.
///
/// Fields are kept as transmitted; ``unixMilliseconds(century:)`` and
/// ``init(unixMilliseconds:summerTime:)`` convert to and from an instant in UTC.
public struct CP56Time2a: Hashable, Sendable {
    /// Seconds × 1000 + milliseconds, 0…59999.
    public var milliseconds: UInt16
    public var minute: UInt8
    public var hour: UInt8
    /// 1…31.
    public var dayOfMonth: UInt8
    /// 1 = Monday … 7 = Sunday; 0 = not used.
    public var dayOfWeek: UInt8
    /// 1…12.
    public var month: UInt8
    /// 0…99 within the century.
    public var year: UInt8
    /// IV: the time tag is not trusted (e.g. no clock synchronisation yet).
    public var isInvalid: Bool
    /// SU: summer time.
    public var isSummerTime: Bool
    /// RES1, used by some profiles as "substituted time" (the time was not taken from the source).
    public var isSubstituted: Bool

    public init(year: UInt8, month: UInt8, dayOfMonth: UInt8, hour: UInt8, minute: UInt8, milliseconds: UInt16,
                dayOfWeek: UInt8 = 0, isInvalid: Bool = false, isSummerTime: Bool = false, isSubstituted: Bool = false) {
        self.milliseconds = milliseconds
        self.minute = minute
        self.hour = hour
        self.dayOfMonth = dayOfMonth
        self.dayOfWeek = dayOfWeek
        self.month = month
        self.year = year
        self.isInvalid = isInvalid
        self.isSummerTime = isSummerTime
        self.isSubstituted = isSubstituted
    }

    public static let encodedSize = 7

    /// Appends the seven octets.
    public func encode(into bytes: inout [UInt8]) {
        bytes.appendUInt16(milliseconds)
        bytes.append(minute & 0x3F | (isSubstituted ? 0x40 : 0) | (isInvalid ? 0x80 : 0))
        bytes.append(hour & 0x1F | (isSummerTime ? 0x80 : 0))
        bytes.append(dayOfMonth & 0x1F | (dayOfWeek & 0x07) << 5)
        bytes.append(month & 0x0F)
        bytes.append(year & 0x7F)
    }

    /// Decodes seven octets; values outside their ranges are reserved and rejected.
    static func decode(from reader: inout ByteReader) throws(ASDUError) -> CP56Time2a {
        let milliseconds = try reader.readUInt16()
        let minuteOctet = try reader.readUInt8()
        let hourOctet = try reader.readUInt8()
        let dayOctet = try reader.readUInt8()
        let monthOctet = try reader.readUInt8()
        let yearOctet = try reader.readUInt8()
        let time = CP56Time2a(
            year: yearOctet & 0x7F, month: monthOctet & 0x0F, dayOfMonth: dayOctet & 0x1F,
            hour: hourOctet & 0x1F, minute: minuteOctet & 0x3F, milliseconds: milliseconds,
            dayOfWeek: dayOctet >> 5, isInvalid: minuteOctet & 0x80 != 0,
            isSummerTime: hourOctet & 0x80 != 0, isSubstituted: minuteOctet & 0x40 != 0)
        try time.validate()
        return time
    }

    func validate() throws(ASDUError) {
        guard milliseconds <= 59_999 else { throw .reservedValue(field: "CP56Time2a milliseconds", value: Int(milliseconds)) }
        guard minute <= 59 else { throw .reservedValue(field: "CP56Time2a minute", value: Int(minute)) }
        guard hour <= 23 else { throw .reservedValue(field: "CP56Time2a hour", value: Int(hour)) }
        guard month <= 12 else { throw .reservedValue(field: "CP56Time2a month", value: Int(month)) }
        // Some masters send an all-zero date with IV set; only a valid time needs a real date.
        if !isInvalid {
            guard month >= 1 else { throw .reservedValue(field: "CP56Time2a month", value: Int(month)) }
            guard dayOfMonth >= 1 else { throw .reservedValue(field: "CP56Time2a day of month", value: Int(dayOfMonth)) }
        }
    }
}

extension CP56Time2a {
    /// The time of a UTC instant given in milliseconds since 1970-01-01T00:00:00Z (years 2000–2099 fit losslessly).
    public init(unixMilliseconds: Int64, isInvalid: Bool = false, isSummerTime: Bool = false) {
        let days = unixMilliseconds.floorDivided(by: 86_400_000)
        let millisecondOfDay = unixMilliseconds - days * 86_400_000
        let civil = CivilDate(daysSinceEpoch: days)
        // 1970-01-01 was a Thursday (ISO weekday 4).
        let weekday = UInt8((days + 3).floorModulo(7) + 1)
        self.init(year: UInt8(civil.year.floorModulo(100)), month: UInt8(civil.month), dayOfMonth: UInt8(civil.day),
                  hour: UInt8(millisecondOfDay / 3_600_000), minute: UInt8(millisecondOfDay / 60_000 % 60),
                  milliseconds: UInt16(millisecondOfDay % 60_000), dayOfWeek: weekday,
                  isInvalid: isInvalid, isSummerTime: isSummerTime)
    }

    /// Milliseconds since the Unix epoch, reading the two-digit year in the given century; nil if the date does not exist.
    public func unixMilliseconds(century: Int = 2000) -> Int64? {
        let fullYear = Int64(century) + Int64(year)
        guard (1...12).contains(month), dayOfMonth >= 1,
              Int64(dayOfMonth) <= CivilDate.daysInMonth(year: fullYear, month: Int64(month)),
              hour <= 23, minute <= 59, milliseconds <= 59_999 else { return nil }
        let days = CivilDate(year: fullYear, month: Int64(month), day: Int64(dayOfMonth)).daysSinceEpoch
        return days * 86_400_000 + Int64(hour) * 3_600_000 + Int64(minute) * 60_000 + Int64(milliseconds)
    }
}

extension CP56Time2a: CustomStringConvertible {
    /// ISO-like `2026-11-22 04:57:51.123`, with `IV`, `SU`, `SB` appended where set.
    public var description: String {
        var text = "20\(twoDigits(year))-\(twoDigits(month))-\(twoDigits(dayOfMonth)) "
            + "\(twoDigits(hour)):\(twoDigits(minute)):\(twoDigits(UInt8(milliseconds / 1000)))."
            + threeDigits(milliseconds % 1000)
        if isInvalid { text += " IV" }
        if isSummerTime { text += " SU" }
        if isSubstituted { text += " SB" }
        return text
    }
}

/// CP24Time2a, the three-octet time of IEC 60870-5-101 clause 7.2.6.19 (minutes and milliseconds).
public struct CP24Time2a: Hashable, Sendable {
    public var milliseconds: UInt16
    public var minute: UInt8
    public var isInvalid: Bool
    public var isSubstituted: Bool

    public init(minute: UInt8, milliseconds: UInt16, isInvalid: Bool = false, isSubstituted: Bool = false) {
        self.milliseconds = milliseconds
        self.minute = minute
        self.isInvalid = isInvalid
        self.isSubstituted = isSubstituted
    }

    public static let encodedSize = 3

    public func encode(into bytes: inout [UInt8]) {
        bytes.appendUInt16(milliseconds)
        bytes.append(minute & 0x3F | (isSubstituted ? 0x40 : 0) | (isInvalid ? 0x80 : 0))
    }

    /// Decodes three octets from the start of `bytes`.
    public init(decoding bytes: [UInt8]) throws(ASDUError) {
        self = try ByteReader.read(bytes) { reader throws(ASDUError) in try CP24Time2a.decode(from: &reader) }
    }

    static func decode(from reader: inout ByteReader) throws(ASDUError) -> CP24Time2a {
        let milliseconds = try reader.readUInt16()
        let minuteOctet = try reader.readUInt8()
        guard milliseconds <= 59_999 else { throw .reservedValue(field: "CP24Time2a milliseconds", value: Int(milliseconds)) }
        guard minuteOctet & 0x3F <= 59 else { throw .reservedValue(field: "CP24Time2a minute", value: Int(minuteOctet & 0x3F)) }
        return CP24Time2a(minute: minuteOctet & 0x3F, milliseconds: milliseconds,
                          isInvalid: minuteOctet & 0x80 != 0, isSubstituted: minuteOctet & 0x40 != 0)
    }
}

extension CP24Time2a: CustomStringConvertible {
    public var description: String {
        "mm:ss.fff \(twoDigits(minute)):\(twoDigits(UInt8(milliseconds / 1000))).\(threeDigits(milliseconds % 1000))"
            + (isInvalid ? " IV" : "") + (isSubstituted ? " SB" : "")
    }
}

/// CP16Time2a, two octets of milliseconds 0…59999 (IEC 60870-5-101 clause 7.2.6.20): elapsed and delay times.
public struct CP16Time2a: Hashable, Sendable {
    public var milliseconds: UInt16

    public init(milliseconds: UInt16) { self.milliseconds = milliseconds }

    public static let encodedSize = 2

    public func encode(into bytes: inout [UInt8]) { bytes.appendUInt16(milliseconds) }

    static func decode(from reader: inout ByteReader) throws(ASDUError) -> CP16Time2a {
        let milliseconds = try reader.readUInt16()
        guard milliseconds <= 59_999 else { throw .reservedValue(field: "CP16Time2a milliseconds", value: Int(milliseconds)) }
        return CP16Time2a(milliseconds: milliseconds)
    }
}

extension CP16Time2a: CustomStringConvertible {
    public var description: String { "\(milliseconds) ms" }
}

func twoDigits(_ value: UInt8) -> String { value < 10 ? "0\(value)" : "\(value)" }

func threeDigits(_ value: UInt16) -> String {
    value < 10 ? "00\(value)" : value < 100 ? "0\(value)" : "\(value)"
}

/// A proleptic Gregorian date, converted with the days-from-civil algorithm (no Foundation in the core).
public struct CivilDate: Sendable, Equatable {
    public var year: Int64
    public var month: Int64
    public var day: Int64

    public init(year: Int64, month: Int64, day: Int64) {
        self.year = year
        self.month = month
        self.day = day
    }

    public init(daysSinceEpoch: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = z.floorDivided(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// The day that holds `secondsSinceEpoch` (UTC).
    public init(secondsSinceEpoch: Int64) {
        self.init(daysSinceEpoch: secondsSinceEpoch.floorDivided(by: 86_400))
    }

    /// `2027-11-22`.
    public var text: String {
        func twoDigits(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(twoDigits(month))-\(twoDigits(day))"
    }

    public var daysSinceEpoch: Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = shiftedYear.floorDivided(by: 400)
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    func floorModulo(_ divisor: Int64) -> Int64 { self - floorDivided(by: divisor) * divisor }
}
