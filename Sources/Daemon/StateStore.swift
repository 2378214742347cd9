import Foundation
import IEC104
public import Outstation

/// What the state file holds.
public struct SavedState: Sendable, Equatable {
    public var points: [PointUpdate]
    /// Where each served file was listed, so that it is listed there again after a restart.
    public var fileAddresses: [RememberedFileAddress]

    public init(points: [PointUpdate] = [], fileAddresses: [RememberedFileAddress] = []) {
        self.points = points
        self.fileAddresses = fileAddresses
    }

    public var isEmpty: Bool { points.isEmpty && fileAddresses.isEmpty }
}

/// The state file: integrated totals, retained points and file addresses, written atomically so that a crash
/// leaves either the previous file or the new one, never a torn one.
public struct StateStore: Sendable {
    public let path: String
    static let version = 1

    public init(directory: String) {
        path = directory + "/state.json"
    }

    public var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// Writes the snapshot: temporary file, fsync, rename, fsync of the directory.
    public func save(_ state: SavedState, savedAt: Int64) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let document: [String: Any] = [
            "version": Self.version,
            "saved_at": savedAt,
            "points": state.points.map(Self.encode),
            "files": state.fileAddresses.map(Self.encode),
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw StateStoreError("cannot create \(temporary): \(Self.lastError)") }
        defer { close(descriptor) }
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw StateStoreError("cannot write \(temporary): \(Self.lastError)")
                }
                offset += written
            }
        }
        guard fsync(descriptor) == 0 else { throw StateStoreError("cannot sync \(temporary): \(Self.lastError)") }
        guard rename(temporary, path) == 0 else { throw StateStoreError("cannot rename \(temporary) to \(path): \(Self.lastError)") }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Reads the saved state; nil if there is no state file yet. A damaged file throws. A file written before
    /// file addresses were kept has none.
    public func load() throws -> SavedState? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw StateStoreError("cannot read \(path)") }
        guard let document = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw StateStoreError("\(path) is not a state file (not JSON)")
        }
        guard document["version"] as? Int == Self.version, let points = document["points"] as? [[String: Any]] else {
            throw StateStoreError("\(path) has an unknown layout (version \(document["version"] ?? "missing"))")
        }
        var updates: [PointUpdate] = []
        for (index, point) in points.enumerated() {
            guard let update = Self.decode(point) else { throw StateStoreError("\(path): entry \(index) is damaged") }
            updates.append(update)
        }
        guard let files = document["files"] as? [[String: Any]]? else { throw StateStoreError("\(path): files is not a list") }
        var fileAddresses: [RememberedFileAddress] = []
        for (index, entry) in (files ?? []).enumerated() {
            guard let address = Self.decode(file: entry) else { throw StateStoreError("\(path): file entry \(index) is damaged") }
            fileAddresses.append(address)
        }
        return SavedState(points: updates, fileAddresses: fileAddresses)
    }

    static func encode(_ file: RememberedFileAddress) -> [String: Any] {
        ["ca": Int(file.commonAddress), "ioa": Int(file.objectAddress), "directory": file.directory, "name": file.name]
    }

    static func decode(file entry: [String: Any]) -> RememberedFileAddress? {
        guard let ca = entry["ca"] as? Int, let ioa = entry["ioa"] as? Int, (0...0xFFFF).contains(ca),
              (0...0xFF_FFFF).contains(ioa), let directory = entry["directory"] as? String,
              let name = entry["name"] as? String, !name.isEmpty else { return nil }
        return RememberedFileAddress(commonAddress: UInt16(ca), directory: directory, name: name, objectAddress: UInt32(ioa))
    }

    static func encode(_ update: PointUpdate) -> [String: Any] {
        var entry: [String: Any] = [
            "ca": Int(update.address.commonAddress), "ioa": Int(update.address.objectAddress),
            "quality": Int(update.quality.rawValue), "time": update.time ?? 0,
        ]
        switch update.value {
        case .single(let on): entry["single"] = on
        case .double(let state): entry["double"] = Int(state.rawValue)
        case .step(let position): entry["step"] = Int(position.value); entry["transient"] = position.isTransient
        case .bitstring(let bits): entry["bitstring"] = Int(bits)
        case .normalized(let value): entry["normalized"] = Int(value.rawValue)
        case .scaled(let value): entry["scaled"] = Int(value)
        // The bit pattern keeps every float exactly, NaN included.
        case .float(let value): entry["float_bits"] = Int(value.bitPattern)
        case .counter(let reading): entry["counter"] = Int(reading.value); entry["sequence"] = Int(reading.sequenceNumber)
        }
        return entry
    }

    static func decode(_ entry: [String: Any]) -> PointUpdate? {
        guard let ca = entry["ca"] as? Int, let ioa = entry["ioa"] as? Int, (0...0xFFFF).contains(ca),
              (0...0xFF_FFFF).contains(ioa), let qualityBits = entry["quality"] as? Int, (0...255).contains(qualityBits) else {
            return nil
        }
        let value: PointValue
        if let on = entry["single"] as? Bool {
            value = .single(on)
        } else if let raw = entry["double"] as? Int, let state = DoublePointState(rawValue: UInt8(clamping: raw)) {
            value = .double(state)
        } else if let step = entry["step"] as? Int, (-64...63).contains(step) {
            value = .step(StepPosition(value: Int8(step), isTransient: entry["transient"] as? Bool ?? false))
        } else if let bits = entry["bitstring"] as? Int, (0...Int(UInt32.max)).contains(bits) {
            value = .bitstring(UInt32(bits))
        } else if let raw = entry["normalized"] as? Int, (-32768...32767).contains(raw) {
            value = .normalized(NormalizedValue(rawValue: Int16(raw)))
        } else if let scaled = entry["scaled"] as? Int, (-32768...32767).contains(scaled) {
            value = .scaled(Int16(scaled))
        } else if let bits = entry["float_bits"] as? Int, (0...Int(UInt32.max)).contains(bits) {
            value = .float(Float(bitPattern: UInt32(bits)))
        } else if let counter = entry["counter"] as? Int, (Int(Int32.min)...Int(Int32.max)).contains(counter) {
            value = .counter(BinaryCounterReading(value: Int32(counter), sequenceNumber: UInt8(clamping: entry["sequence"] as? Int ?? 0)))
        } else {
            return nil
        }
        let time = entry["time"] as? Int
        return PointUpdate(address: PointAddress(commonAddress: UInt16(ca), objectAddress: UInt32(ioa)), value: value,
                           quality: QualityDescriptor(rawValue: UInt8(qualityBits)), time: time.map(Int64.init))
    }

    static var lastError: String { String(cString: strerror(errno)) }
}

public struct StateStoreError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
