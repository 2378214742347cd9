import Testing
import IEC104
import Outstation

/// A file keeps its address across a restart (the state file's addresses), a reload that changes its area and a
/// folder that could not be read for a while.
@Suite("File addresses that outlast a restart, a reload and an unreadable folder")
struct FileAddressMemoryTests {
    static let area = FileArea(name: "records", directory: "/data/records", commonAddress: 47, objectAddresses: 30001...30005)

    static func scanned(_ name: String, modified: Int64) -> ScannedFile {
        ScannedFile(name: name, identity: FileIdentity(device: 1, inode: UInt64(modified), size: 10,
                                                       modifiedNanoseconds: modified * 1_000_000_000))
    }

    static func remembered(_ name: String, _ ioa: UInt32, ca: UInt16 = 47,
                           directory: String = "/data/records") -> RememberedFileAddress {
        RememberedFileAddress(commonAddress: ca, directory: directory, name: name, objectAddress: ioa)
    }

    static func addresses(_ catalog: FileCatalog) -> [String: UInt32] {
        Dictionary(uniqueKeysWithValues: catalog.directory(commonAddress: 47).map { ($0.name, $0.address.objectAddress) })
    }

    @Test("after a restart each file is listed at its address of the last run; newcomers fill the free ones")
    func restart() throws {
        let before = FileCatalog(areas: [Self.area])
        _ = before.apply(scan: ["a", "b", "c"].enumerated().map { Self.scanned($1, modified: Int64($0)) }, area: "records")
        _ = before.apply(scan: [Self.scanned("b", modified: 1), Self.scanned("c", modified: 2)], area: "records")
        #expect(Self.addresses(before) == ["b": 30002, "c": 30003])
        let kept = before.addressesToKeep
        #expect(kept == [Self.remembered("b", 30002), Self.remembered("c", 30003)])

        let after = FileCatalog(areas: [Self.area])
        after.remember(kept)
        // Oldest first from the lowest address would move b and c down to 30001 and 30002.
        let change = try #require(after.apply(scan: [Self.scanned("new", modified: 5), Self.scanned("b", modified: 1),
                                                     Self.scanned("c", modified: 2)], area: "records"))
        #expect(Self.addresses(after) == ["new": 30001, "b": 30002, "c": 30003])
        #expect(change.added.map(\.name) == ["b", "c", "new"], "the log still says oldest first")
    }

    @Test("a remembered address already taken, outside the range or of another folder is not used")
    func unusableMemories() {
        let catalog = FileCatalog(areas: [Self.area])
        catalog.remember([Self.remembered("a", 30002), Self.remembered("b", 30002), Self.remembered("c", 40000),
                          Self.remembered("d", 30004, directory: "/elsewhere"), Self.remembered("e", 30005, ca: 48)])
        #expect(catalog.addressesToKeep.map(\.name) == ["a", "b", "c"], "no area serves the other folders")
        _ = catalog.apply(scan: ["a", "b", "c", "d", "e"].enumerated().map { Self.scanned($1, modified: Int64($0)) },
                          area: "records")
        #expect(Self.addresses(catalog) == ["a": 30002, "b": 30001, "c": 30003, "d": 30004, "e": 30005])
    }

    @Test("a complete scan forgets the addresses of files that are gone; an unreadable folder keeps its files' addresses")
    func forgetting() {
        let catalog = FileCatalog(areas: [Self.area])
        _ = catalog.apply(scan: [Self.scanned("a", modified: 1), Self.scanned("b", modified: 2)], area: "records")
        _ = catalog.apply(scan: [Self.scanned("b", modified: 2)], area: "records")

        // The folder cannot be read: b leaves the listing, its address stays remembered, also in the state file.
        let unreadable = catalog.apply(scan: [], area: "records", complete: false)
        #expect(unreadable?.removed.map(\.name) == ["b"])
        #expect(catalog.addressesToKeep == [Self.remembered("b", 30002)])
        _ = catalog.apply(scan: [], area: "records", complete: false)
        #expect(catalog.addressesToKeep == [Self.remembered("b", 30002)], "a second failed scan forgets nothing")

        // Readable again, with a file newer than b: b is back where it was, not at the lowest free address.
        _ = catalog.apply(scan: [Self.scanned("z", modified: 9), Self.scanned("b", modified: 2)], area: "records")
        #expect(Self.addresses(catalog) == ["z": 30001, "b": 30002])

        // A readable folder without b: b's address is not kept, and the next file to appear takes it.
        _ = catalog.apply(scan: [Self.scanned("z", modified: 9)], area: "records")
        #expect(catalog.addressesToKeep == [Self.remembered("z", 30001)])
        _ = catalog.apply(scan: [Self.scanned("z", modified: 9), Self.scanned("y", modified: 10)], area: "records")
        #expect(Self.addresses(catalog) == ["z": 30001, "y": 30002])
    }

    @Test("a reload that changes an area (here its scan interval and size limit) lists its files where they were")
    func reload() {
        let catalog = FileCatalog(areas: [Self.area])
        let files = ["a", "b", "c"].enumerated().map { Self.scanned($1, modified: Int64($0)) }
        _ = catalog.apply(scan: files, area: "records")
        _ = catalog.apply(scan: Array(files.dropFirst()), area: "records")
        var changed = Self.area
        changed.scanInterval = .seconds(10)
        changed.maximumFileSize = 1000
        #expect(catalog.replaceAreas([changed]) == [47])
        #expect(catalog.fileCount == 0, "a changed area's files wait for its next scan")
        _ = catalog.apply(scan: Array(files.dropFirst()), area: "records")
        #expect(Self.addresses(catalog) == ["b": 30002, "c": 30003])

        // An area removed by a reload leaves nothing behind to keep.
        _ = catalog.replaceAreas([])
        #expect(catalog.addressesToKeep.isEmpty)
    }
}
