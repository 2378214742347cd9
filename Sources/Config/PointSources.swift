public import Outstation

/// Places in point tables, 12 bytes each: a `SourceLocation` is 40 bytes and holds a reference to its file
/// name, which a table of a million points would repeat a million times.
struct PointPlaces: Sendable {
    private struct Place: Sendable {
        var file: UInt32
        var line: UInt32
        /// 0 when the place has no column (INI).
        var column: UInt32
    }

    private var files: [String] = []
    private var places: [Place] = []

    var count: Int { places.count }

    mutating func reserveCapacity(_ capacity: Int) { places.reserveCapacity(capacity) }

    mutating func append(_ location: SourceLocation) {
        // Points come file by file, so the file just used is nearly always the one.
        let file: Int
        if let last = files.last, last == location.file { file = files.count - 1 }
        else if let known = files.firstIndex(of: location.file) { file = known }
        else { files.append(location.file); file = files.count - 1 }
        places.append(Place(file: UInt32(file), line: UInt32(clamping: location.line),
                            column: UInt32(clamping: location.column ?? 0)))
    }

    mutating func removeLast(_ count: Int) { places.removeLast(count) }

    subscript(index: Int) -> SourceLocation {
        let place = places[index]
        return SourceLocation(file: files[Int(place.file)], line: Int(place.line),
                              column: place.column == 0 ? nil : Int(place.column))
    }
}

/// Where each monitor and command point is defined: a look-up by address in a sorted list.
public struct PointSources: Sendable {
    private var addresses: [PointAddress] = []
    private var places = PointPlaces()

    public init() {}

    /// `addresses` in ascending order, without repeats; `places[i]` is where `addresses[i]` is defined.
    init(sortedAddresses addresses: [PointAddress], places: PointPlaces) {
        self.addresses = addresses
        self.places = places
    }

    public var count: Int { addresses.count }

    public subscript(address: PointAddress) -> SourceLocation? {
        guard let index = addresses.sortedIndex(of: address, by: { $0 }) else { return nil }
        return places[index]
    }
}

extension RandomAccessCollection where Index == Int {
    /// The index of the element whose `key` is `address`, in a collection sorted by that key (binary search).
    func sortedIndex(of address: PointAddress, by key: (Element) -> PointAddress) -> Int? {
        var low = startIndex, high = endIndex
        while low < high {
            let middle = low + (high - low) / 2
            if key(self[middle]) < address { low = middle + 1 } else { high = middle }
        }
        return low < endIndex && key(self[low]) == address ? low : nil
    }
}
