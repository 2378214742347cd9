/// Information elements of file transfer, IEC 60870-5-101 clauses 7.2.6.33–7.2.6.39 and 7.3.6.
///
/// The qualifiers keep their octet as received: a value the standard reserves still decodes and re-encodes
/// unchanged, and the station decides what to answer.

/// Why a file transfer step failed: the upper four bits of SCQ and AFQ (clause 7.2.6.30, 7.2.6.32).
public struct FileErrorCause: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    /// Four bits; higher bits are dropped.
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

    public static let none = FileErrorCause(rawValue: 0)
    public static let memoryNotAvailable = FileErrorCause(rawValue: 1)
    public static let checksumFailed = FileErrorCause(rawValue: 2)
    public static let unexpectedService = FileErrorCause(rawValue: 3)
    public static let unexpectedNameOfFile = FileErrorCause(rawValue: 4)
    public static let unexpectedNameOfSection = FileErrorCause(rawValue: 5)

    public var name: String {
        switch rawValue {
        case 0: "none"
        case 1: "requested memory space not available"
        case 2: "checksum failed"
        case 3: "unexpected communication service"
        case 4: "unexpected name of file"
        case 5: "unexpected name of section"
        default: "cause \(rawValue)"
        }
    }
}

/// SCQ and AFQ share a layout: what is asked or answered in the lower four bits, why it failed in the upper four.
public protocol ActionAndCauseQualifier {
    associatedtype Action: RawRepresentable<UInt8>
    var octet: UInt8 { get }
    init(octet: UInt8)
    /// The action of the lower four bits of `octet` (the upper ones are dropped).
    static func action(of octet: UInt8) -> Action
}

extension ActionAndCauseQualifier {
    public init(_ action: Action, cause: FileErrorCause = .none) { self.init(octet: action.rawValue & 0x0F | cause.rawValue << 4) }
    public var action: Action { Self.action(of: octet) }
    public var cause: FileErrorCause { FileErrorCause(rawValue: octet >> 4) }
}

/// FRQ and SRQ: a seven-bit value and the BS bit that makes the answer negative (clause 7.2.6.28, 7.2.6.29).
public struct FileReadyQualifier: Hashable, Sendable {
    public var octet: UInt8
    public init(octet: UInt8) { self.octet = octet }
    public init(negative: Bool, value: UInt8 = 0) { octet = value & 0x7F | (negative ? 0x80 : 0) }
    /// File (or section) not ready: the BS bit.
    public var isNegative: Bool { octet & 0x80 != 0 }
}

/// SCQ, select and call qualifier (clause 7.2.6.30).
public struct SelectCallQualifier: ActionAndCauseQualifier, Hashable, Sendable {
    /// The lower four bits: what the controlling station asks for.
    public struct Action: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }
        /// With COT 5 (request): call directory.
        public static let `default` = Action(rawValue: 0)
        public static let selectFile = Action(rawValue: 1)
        public static let requestFile = Action(rawValue: 2)
        public static let deactivateFile = Action(rawValue: 3)
        public static let deleteFile = Action(rawValue: 4)
        public static let selectSection = Action(rawValue: 5)
        public static let requestSection = Action(rawValue: 6)
        public static let deactivateSection = Action(rawValue: 7)

        public var name: String {
            switch rawValue {
            case 0: "default"
            case 1: "select file"
            case 2: "call file"
            case 3: "deactivate file"
            case 4: "delete file"
            case 5: "select section"
            case 6: "call section"
            case 7: "deactivate section"
            default: "action \(rawValue)"
            }
        }
    }

    public var octet: UInt8
    public init(octet: UInt8) { self.octet = octet }
    public static func action(of octet: UInt8) -> Action { Action(rawValue: octet) }
}

/// LSQ, last section or segment qualifier (clause 7.2.6.31).
public struct LastSectionQualifier: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let fileTransferWithoutDeactivation = LastSectionQualifier(rawValue: 1)
    /// The sender breaks the file transfer off.
    public static let fileTransferWithDeactivation = LastSectionQualifier(rawValue: 2)
    public static let sectionTransferWithoutDeactivation = LastSectionQualifier(rawValue: 3)
    /// The sender breaks the section transfer off.
    public static let sectionTransferWithDeactivation = LastSectionQualifier(rawValue: 4)

    public var name: String {
        switch rawValue {
        case 1: "file transfer without deactivation"
        case 2: "file transfer with deactivation"
        case 3: "section transfer without deactivation"
        case 4: "section transfer with deactivation"
        default: "qualifier \(rawValue)"
        }
    }
}

/// AFQ, acknowledge file or section qualifier (clause 7.2.6.32).
public struct AcknowledgeQualifier: ActionAndCauseQualifier, Hashable, Sendable {
    public struct Action: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }
        public static let positiveFile = Action(rawValue: 1)
        public static let negativeFile = Action(rawValue: 2)
        public static let positiveSection = Action(rawValue: 3)
        public static let negativeSection = Action(rawValue: 4)

        public var name: String {
            switch rawValue {
            case 1: "positive acknowledge of file transfer"
            case 2: "negative acknowledge of file transfer"
            case 3: "positive acknowledge of section transfer"
            case 4: "negative acknowledge of section transfer"
            default: "action \(rawValue)"
            }
        }
    }

    public var octet: UInt8
    public init(octet: UInt8) { self.octet = octet }
    public static func action(of octet: UInt8) -> Action { Action(rawValue: octet) }
}

/// SOF, status of file (clause 7.2.6.38).
public struct FileStatus: Hashable, Sendable {
    public var octet: UInt8
    public init(octet: UInt8) { self.octet = octet }
    public init(status: UInt8 = 0, lastFileOfDirectory: Bool = false, isDirectory: Bool = false,
                transferActive: Bool = false) {
        octet = status & 0x1F | (lastFileOfDirectory ? 0x20 : 0) | (isDirectory ? 0x40 : 0)
            | (transferActive ? 0x80 : 0)
    }
    /// STATUS, five bits the standard leaves to the application.
    public var status: UInt8 { octet & 0x1F }
    /// LFD: the last entry of the directory.
    public var isLastFileOfDirectory: Bool { octet & 0x20 != 0 }
    /// FOR: the name defines a subdirectory.
    public var isDirectory: Bool { octet & 0x40 != 0 }
    /// FA: a transfer of this file is active.
    public var isTransferActive: Bool { octet & 0x80 != 0 }
}

/// F_FR_NA_1: the file is ready (or, negative, is not) and how long it is.
public struct FileReady: Hashable, Sendable {
    public var nameOfFile: UInt16
    /// LOF, three octets.
    public var lengthOfFile: UInt32
    public var qualifier: FileReadyQualifier
    public init(nameOfFile: UInt16, lengthOfFile: UInt32, qualifier: FileReadyQualifier) {
        self.nameOfFile = nameOfFile
        self.lengthOfFile = lengthOfFile & 0xFF_FFFF
        self.qualifier = qualifier
    }
}

/// F_SR_NA_1: a section is ready (or, negative, is not) and how long it is.
public struct SectionReady: Hashable, Sendable {
    public var nameOfFile: UInt16
    public var nameOfSection: UInt8
    public var lengthOfSection: UInt32
    public var qualifier: FileReadyQualifier
    public init(nameOfFile: UInt16, nameOfSection: UInt8, lengthOfSection: UInt32, qualifier: FileReadyQualifier) {
        self.nameOfFile = nameOfFile
        self.nameOfSection = nameOfSection
        self.lengthOfSection = lengthOfSection & 0xFF_FFFF
        self.qualifier = qualifier
    }
}

/// F_SC_NA_1: call directory, select file, call file, call section (and deactivate, delete).
public struct FileCall: Hashable, Sendable {
    public var nameOfFile: UInt16
    public var nameOfSection: UInt8
    public var qualifier: SelectCallQualifier
    public init(nameOfFile: UInt16, nameOfSection: UInt8 = 0, qualifier: SelectCallQualifier) {
        self.nameOfFile = nameOfFile
        self.nameOfSection = nameOfSection
        self.qualifier = qualifier
    }
}

/// F_LS_NA_1: the last segment of a section or the last section of a file, with its checksum.
public struct LastSection: Hashable, Sendable {
    public var nameOfFile: UInt16
    public var nameOfSection: UInt8
    public var qualifier: LastSectionQualifier
    /// CHS: the sum modulo 256 of every octet of the section (last segment) or of the file (last section).
    public var checksum: UInt8
    public init(nameOfFile: UInt16, nameOfSection: UInt8, qualifier: LastSectionQualifier, checksum: UInt8) {
        self.nameOfFile = nameOfFile
        self.nameOfSection = nameOfSection
        self.qualifier = qualifier
        self.checksum = checksum
    }
}

/// F_AF_NA_1: acknowledge file or section.
public struct FileAcknowledgement: Hashable, Sendable {
    public var nameOfFile: UInt16
    public var nameOfSection: UInt8
    public var qualifier: AcknowledgeQualifier
    public init(nameOfFile: UInt16, nameOfSection: UInt8, qualifier: AcknowledgeQualifier) {
        self.nameOfFile = nameOfFile
        self.nameOfSection = nameOfSection
        self.qualifier = qualifier
    }
}

/// F_SG_NA_1: one segment of a section; the only element whose length varies.
public struct FileSegment: Hashable, Sendable {
    /// What fits one ASDU: 249 − 6 header − 3 address − NOF, NOS and LOS.
    public static let maximumLength = ASDU.maximumLength - ASDU.headerLength - ASDU.addressLength - 4
    public var nameOfFile: UInt16
    public var nameOfSection: UInt8
    public var data: [UInt8]
    public init(nameOfFile: UInt16, nameOfSection: UInt8, data: [UInt8]) {
        self.nameOfFile = nameOfFile
        self.nameOfSection = nameOfSection
        self.data = data
    }
}

/// F_DR_TA_1: one directory entry.
public struct DirectoryEntry: Hashable, Sendable {
    public var nameOfFile: UInt16
    public var lengthOfFile: UInt32
    public var status: FileStatus
    /// When the file was created (rtu104d: last modified).
    public var time: CP56Time2a
    public init(nameOfFile: UInt16, lengthOfFile: UInt32, status: FileStatus, time: CP56Time2a) {
        self.nameOfFile = nameOfFile
        self.lengthOfFile = lengthOfFile & 0xFF_FFFF
        self.status = status
        self.time = time
    }
}

/// The sum modulo 256 of `bytes`: CHS of clause 7.2.6.37.
public func fileChecksum(_ bytes: some Sequence<UInt8>, adding start: UInt8 = 0) -> UInt8 {
    var sum = start
    for byte in bytes { sum &+= byte }
    return sum
}
