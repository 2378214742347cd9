public import IEC104

/// What identifies one version of a file on disk: a file that changes any of these between two looks is another
/// file for a transfer (clause 7.4.11 leaves it to the station; rtu104d breaks the transfer off).
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int
    /// Modification time, nanoseconds since 1970.
    public var modifiedNanoseconds: Int64

    public init(device: UInt64, inode: UInt64, size: Int, modifiedNanoseconds: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modifiedNanoseconds = modifiedNanoseconds
    }

    public var modifiedMilliseconds: Int64 { modifiedNanoseconds / 1_000_000 }
}

/// One file a directory scan found that the area lists (name pattern, size and dot rule already applied).
public struct ScannedFile: Hashable, Sendable {
    public var name: String
    public var identity: FileIdentity
    public init(name: String, identity: FileIdentity) {
        self.name = name
        self.identity = identity
    }
}

/// A file the outstation offers, at its address.
public struct CatalogFile: Hashable, Sendable {
    public var area: String
    public var name: String
    /// The whole path: the area's directory and the name.
    public var path: String
    public var address: PointAddress
    public var nameOfFile: UInt16
    public var identity: FileIdentity
    public var sectionSize: Int
    public var allowDelete: Bool

    public var size: Int { identity.size }
    /// `1 octet`, `2412 octets`: for log lines.
    public var sizeText: String { Self.octetText(size) }

    public static func octetText(_ count: Int) -> String { count == 1 ? "1 octet" : "\(count) octets" }

    /// Sections of `sectionSize` octets, the last one shorter; an empty file has one empty section.
    public var sectionCount: Int { max(1, (size + sectionSize - 1) / sectionSize) }

    /// The octets of section `number` (1-based) as an offset and a length.
    public func section(_ number: Int) -> (offset: Int, length: Int)? {
        guard number >= 1, number <= sectionCount else { return nil }
        let offset = (number - 1) * sectionSize
        return (offset, min(sectionSize, size - offset))
    }
}

/// How a scan changed an area's listing, for the log.
public struct CatalogChange: Sendable, Equatable {
    public var area: String
    public var commonAddress: UInt16
    public var added: [CatalogFile] = []
    public var changed: [CatalogFile] = []
    public var removed: [CatalogFile] = []
    /// Files that match but find no free address in the area's range.
    public var unlisted: [String] = []

    public var isEmpty: Bool { added.isEmpty && changed.isEmpty && removed.isEmpty }
}

/// The files of every `[files]` area, by address: the directory masters ask for (F_DR_TA_1).
///
/// Fed by the owner's directory scans, which are I/O; everything here is bookkeeping, so a test gives it scans.
public final class FileCatalog {
    public private(set) var areas: [FileArea]
    private var filesByAddress: [PointAddress: CatalogFile] = [:]
    /// Each area's files by name, for the next scan's comparison.
    private var addressesByArea: [String: [String: UInt32]] = [:]
    /// Names already reported as waiting for a free address, so that the log says it once per file.
    private var reportedUnlisted: [String: Set<String>] = [:]
    /// Addresses files had before a restart, a reload that changed their area or a scan that could not read the
    /// folder; a file listed again claims its own, and the next complete scan of its folder forgets the rest.
    private var remembered: [RememberedFileAddress.Key: UInt32] = [:]

    public init(areas: [FileArea] = []) {
        self.areas = areas
    }

    public var isEmpty: Bool { areas.isEmpty }
    public var fileCount: Int { filesByAddress.count }

    /// The area whose address range holds `address`.
    public func area(containing address: PointAddress) -> FileArea? {
        areas.first { $0.commonAddress == address.commonAddress && $0.objectAddresses.contains(address.objectAddress) }
    }

    public func servesFiles(commonAddress: UInt16) -> Bool { areas.contains { $0.commonAddress == commonAddress } }

    public func file(at address: PointAddress) -> CatalogFile? { filesByAddress[address] }

    /// The directory of one common address, by information object address.
    public func directory(commonAddress: UInt16) -> [CatalogFile] {
        filesByAddress.values.filter { $0.address.commonAddress == commonAddress }
            .sorted { $0.address.objectAddress < $1.address.objectAddress }
    }

    /// Takes a new list of areas (reload): files of areas that went away or changed leave the catalog (a changed
    /// area's files get their addresses back when it lists them again), those of unchanged areas stay where they
    /// are. Returns the common addresses whose directory changed.
    public func replaceAreas(_ newAreas: [FileArea]) -> Set<UInt16> {
        var touched: Set<UInt16> = []
        let kept = Set(newAreas)
        for area in areas where !kept.contains(area) {
            touched.insert(area.commonAddress)
            for (name, objectAddress) in addressesByArea[area.name] ?? [:] {
                filesByAddress[PointAddress(commonAddress: area.commonAddress, objectAddress: objectAddress)] = nil
                remembered[Self.key(name, in: area)] = objectAddress
            }
            addressesByArea[area.name] = nil
            reportedUnlisted[area.name] = nil
        }
        areas = newAreas
        forgetAddressesOfNoArea()
        return touched
    }

    /// Addresses to give files again when they are listed: the state file's, at start.
    public func remember(_ addresses: [RememberedFileAddress]) {
        for entry in addresses { remembered[entry.key] = entry.objectAddress }
        forgetAddressesOfNoArea()
    }

    /// What the state file keeps: the address of every listed file, and remembered ones whose folder no complete
    /// scan has read since.
    public var addressesToKeep: [RememberedFileAddress] {
        var kept = remembered
        for area in areas {
            for (name, objectAddress) in addressesByArea[area.name] ?? [:] { kept[Self.key(name, in: area)] = objectAddress }
        }
        return kept.map { key, objectAddress in
            RememberedFileAddress(commonAddress: key.commonAddress, directory: key.directory, name: key.name,
                                  objectAddress: objectAddress)
        }.sorted { ($0.commonAddress, $0.objectAddress, $0.directory, $0.name)
            < ($1.commonAddress, $1.objectAddress, $1.directory, $1.name) }
    }

    private func forgetAddressesOfNoArea() {
        let folders = Set(areas.map(Self.folder(of:)))
        remembered = remembered.filter { folders.contains($0.key.folder) }
    }

    private static func key(_ name: String, in area: FileArea) -> RememberedFileAddress.Key {
        RememberedFileAddress.Key(commonAddress: area.commonAddress, directory: area.directory, name: name)
    }

    private static func folder(of area: FileArea) -> RememberedFileAddress.Folder {
        RememberedFileAddress.Folder(commonAddress: area.commonAddress, directory: area.directory)
    }

    /// Applies one scan of `areaName`'s directory. A new file takes the address it had before if it is
    /// remembered and free, else the lowest free one, oldest file first; a file keeps its address while it exists.
    /// `complete` is false when the folder could not be read: its files leave the listing, their addresses are
    /// remembered for when it can.
    public func apply(scan: [ScannedFile], area areaName: String, complete: Bool = true) -> CatalogChange? {
        guard let area = areas.first(where: { $0.name == areaName }) else { return nil }
        var change = CatalogChange(area: area.name, commonAddress: area.commonAddress)
        var assigned = addressesByArea[area.name] ?? [:]
        let present = Dictionary(scan.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (name, objectAddress) in assigned where present[name] == nil {
            let address = PointAddress(commonAddress: area.commonAddress, objectAddress: objectAddress)
            if let file = filesByAddress.removeValue(forKey: address) { change.removed.append(file) }
            assigned[name] = nil
            if !complete { remembered[Self.key(name, in: area)] = objectAddress }
        }
        for (name, objectAddress) in assigned {
            let address = PointAddress(commonAddress: area.commonAddress, objectAddress: objectAddress)
            guard let scanned = present[name], var file = filesByAddress[address], file.identity != scanned.identity else { continue }
            file.identity = scanned.identity
            filesByAddress[address] = file
            change.changed.append(file)
        }
        let newcomers = scan.filter { assigned[$0.name] == nil }.sorted {
            ($0.identity.modifiedNanoseconds, $0.name) < ($1.identity.modifiedNanoseconds, $1.name)
        }
        var used = Set(assigned.values)
        var reclaimed: [String: UInt32] = [:]
        for scanned in newcomers {
            guard let objectAddress = remembered.removeValue(forKey: Self.key(scanned.name, in: area)),
                  area.objectAddresses.contains(objectAddress), used.insert(objectAddress).inserted else { continue }
            reclaimed[scanned.name] = objectAddress
        }
        if complete {
            let folder = Self.folder(of: area)
            remembered = remembered.filter { $0.key.folder != folder }
        }
        var next = area.objectAddresses.lowerBound
        var unlisted: Set<String> = []
        for scanned in newcomers {
            let objectAddress: UInt32
            if let earlier = reclaimed[scanned.name] {
                objectAddress = earlier
            } else {
                while used.contains(next), next < area.objectAddresses.upperBound { next += 1 }
                guard !used.contains(next) else {
                    unlisted.insert(scanned.name)
                    continue
                }
                used.insert(next)
                objectAddress = next
            }
            assigned[scanned.name] = objectAddress
            let address = PointAddress(commonAddress: area.commonAddress, objectAddress: objectAddress)
            let file = CatalogFile(area: area.name, name: scanned.name, path: Self.join(area.directory, scanned.name),
                                   address: address, nameOfFile: area.nameOfFile, identity: scanned.identity,
                                   sectionSize: area.sectionSize, allowDelete: area.allowDelete)
            filesByAddress[address] = file
            change.added.append(file)
        }
        change.unlisted = unlisted.subtracting(reportedUnlisted[area.name] ?? []).sorted()
        reportedUnlisted[area.name] = unlisted
        addressesByArea[area.name] = assigned
        return change
    }

    /// A file the outstation deleted for a master leaves the listing at once.
    public func remove(_ file: CatalogFile) -> CatalogChange? {
        guard filesByAddress[file.address]?.identity == file.identity else { return nil }
        filesByAddress[file.address] = nil
        addressesByArea[file.area]?[file.name] = nil
        var change = CatalogChange(area: file.area, commonAddress: file.address.commonAddress)
        change.removed = [file]
        return change
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    // MARK: Directory ASDUs

    /// Entries per F_DR_TA_1 ASDU with SQ=0: (249 − 6) / (3 + 13).
    static let entriesPerASDU = ASDU.capacity(of: .F_DR_TA_1, sequence: false)

    /// The directory of `commonAddress` as F_DR_TA_1 ASDUs with `cause` (5 on request, 3 spontaneous); LFD on the
    /// last entry, FA on files in `active`. Empty when the common address has no files.
    public func directoryASDUs(commonAddress: UInt16, cause: CauseOfTransmission, active: Set<PointAddress>) -> [[UInt8]] {
        let files = directory(commonAddress: commonAddress)
        var asdus: [[UInt8]] = []
        var index = 0
        while index < files.count {
            let chunk = files[index..<min(index + Self.entriesPerASDU, files.count)]
            let objects = chunk.enumerated().map { offset, file in
                let status = FileStatus(lastFileOfDirectory: index + offset == files.count - 1,
                                        transferActive: active.contains(file.address))
                let entry = DirectoryEntry(nameOfFile: file.nameOfFile, lengthOfFile: UInt32(clamping: file.size),
                                           status: status,
                                           time: CP56Time2a(unixMilliseconds: file.identity.modifiedMilliseconds))
                return InformationObject(address: file.address.objectAddress, element: .directoryEntry(entry))
            }
            let asdu = ASDU(typeID: .F_DR_TA_1, cause: cause, commonAddress: commonAddress, objects: objects)
            if let bytes = try? asdu.encoded() { asdus.append(bytes) }
            index += chunk.count
        }
        return asdus
    }
}
