#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Outstation

/// `[files NAME]` sections: directories served by file transfer (IEC 60870-5-101 clause 7.4.11).
extension DaemonConfigReader {
    static let filesKeys = ["common_address", "ioa", "directory", "pattern", "name_of_file", "max_file_size",
                            "section_size", "allow_delete", "scan_interval"]
    /// `section_size`: LOF of a section is three octets; below 1 KiB a file of 255 sections would be tiny.
    static let sectionSizes = 1024...FileArea.largestFile
    /// `scan_interval`: often enough to notice a file soon, not so often that a large directory is read all the time.
    static let scanIntervals = Duration.milliseconds(100)...Duration.seconds(3600)

    /// A `[files NAME]` section as written; the loader checks it against the stations and the points.
    struct FileAreaDraft {
        var area: FileArea
        var location: SourceLocation
        var keyLocations: [String: SourceLocation]
        var subject: String { "files '\(area.name)'" }
        func place(_ key: String) -> SourceLocation { keyLocations[key] ?? location }
    }

    mutating func readFiles(_ fields: FieldReader, name: String) {
        var locations: [String: SourceLocation] = [:]
        for key in Self.filesKeys { locations[key] = fields.keyLocation(key) }
        let commonAddress = fields.int("common_address", in: 1...65534)
        if !fields.has("common_address") {
            fields.missing("common_address", " (the common address whose master may fetch the files, e.g. common_address = 47)")
        }
        let objectAddresses = fields.read("ioa", Self.parseObjectAddresses)
        if !fields.has("ioa") {
            fields.missing("ioa", " (the IOAs the files take, one per file, e.g. ioa = 30001-30099)")
        }
        var directory: String?
        if fields.has("directory") {
            directory = fields.read("directory") { value in
                guard let text = value.scalarText, !text.trimmed.isEmpty else {
                    return .failure(ValueError("directory is empty; name the folder whose files are served, e.g. directory = /var/lib/rtu104d/records"))
                }
                return .success(Paths.resolve(String(text.trimmed), relativeTo: configDirectory))
            }
        } else {
            fields.missing("directory", " (the folder whose files are served, e.g. directory = /var/lib/rtu104d/records)")
        }
        let patterns = fields.read("pattern", Self.parsePatterns)
        let nameOfFile = fields.int("name_of_file", in: 1...65535)
        let sectionSize = fields.int("section_size", in: Self.sectionSizes)
        let largest = FileArea.largestFileSize(sectionSize: sectionSize ?? 65536)
        let maximumFileSize = fields.read("max_file_size") { value in
            let parsed = ValueParsers.int(value, in: 0...largest)
            // Above the limit: say where the limit comes from.
            guard case .failure = parsed, case .success(let size) = ValueParsers.int(value, in: 0...Int.max) else { return parsed }
            let limit = largest == FileArea.largestFile
                ? "\(FileArea.largestFile) octets, the largest length of file (LOF) IEC 60870-5-101 can carry"
                : "\(largest) octets, 255 sections of section_size = \(sectionSize ?? 65536)"
            return .failure(ValueError("\(size) exceeds \(limit); choose \(largest) or less"
                                       + (largest < FileArea.largestFile ? " or a larger section_size" : "")))
        }
        let allowDelete = fields.bool("allow_delete")
        let scanInterval = fields.read("scan_interval") { value in
            ValueParsers.duration(value, max: Self.scanIntervals.upperBound).flatMap { interval -> Result<Duration, ValueError> in
                guard interval >= Self.scanIntervals.lowerBound else {
                    return .failure(ValueError("\(value.display) is shorter than the allowed \(Format.duration(Self.scanIntervals.lowerBound)); "
                                               + "the directory is read this often"))
                }
                return .success(interval)
            }
        }
        fields.reportUnknownKeys(known: Self.filesKeys, elsewhere: Self.misplaced(for: "files"))
        // The directory may be created (or mounted) after the start: the daemon logs it and tries again.
        if let directory, let problem = Self.directoryProblem(directory) {
            fields.warning("directory", "\(problem); the files area stays empty until it is a directory")
        }
        guard let commonAddress, let objectAddresses, let directory else { return }
        let area = FileArea(name: name, directory: directory, commonAddress: UInt16(commonAddress),
                            objectAddresses: objectAddresses, nameOfFile: UInt16(nameOfFile ?? 1),
                            patterns: patterns ?? ["*"], maximumFileSize: maximumFileSize,
                            sectionSize: sectionSize ?? 65536, allowDelete: allowDelete ?? false,
                            scanInterval: scanInterval ?? .seconds(2))
        fileAreas.append(FileAreaDraft(area: area, location: fields.location, keyLocations: locations))
    }

    /// `30001-30099` or `30001`: IOAs 1…16777215, the range inclusive.
    static func parseObjectAddresses(_ value: ConfigValue) -> Result<ClosedRange<UInt32>, ValueError> {
        let text = String((value.scalarText ?? "").trimmed)
        let usage = "write IOA or IOA-IOA in 1…16777215, e.g. ioa = 30001-30099"
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { UInt32(String($0.trimmed).replacingUnderscores) }
        guard (1...2).contains(bounds.count), let first = bounds.first ?? nil, let last = bounds.last ?? nil else {
            return .failure(ValueError("'\(text)' is not an IOA range; \(usage)"))
        }
        guard first >= 1, last <= 16_777_215 else {
            return .failure(ValueError("'\(text)' is outside 1…16777215; \(usage)"))
        }
        guard first <= last else { return .failure(ValueError("'\(text)': the range runs backwards; write \(last)-\(first)")) }
        return .success(first...last)
    }

    /// Space-separated globs on the file name: `*`, `?`, `[...]`.
    static func parsePatterns(_ value: ConfigValue) -> Result<[String], ValueError> {
        let patterns = (value.scalarText ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
        guard !patterns.isEmpty else {
            return .failure(ValueError("no pattern given; write globs on the file name separated by spaces, e.g. *.cfg *.dat (default *)"))
        }
        for pattern in patterns {
            if pattern.contains("/") {
                return .failure(ValueError("'\(pattern)' contains '/'; patterns match the file name only (subdirectories are not served)"))
            }
            if pattern.filter({ $0 == "[" }).count != pattern.filter({ $0 == "]" }).count {
                return .failure(ValueError("'\(pattern)' has an unmatched '[' or ']'; write a set as [abc] or [0-9]"))
            }
        }
        return .success(patterns)
    }

    /// Why `path` cannot be served now, or nil.
    static func directoryProblem(_ path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else { return "'\(path)' does not exist" }
        guard status.st_mode & S_IFMT == S_IFDIR else { return "'\(path)' is not a directory" }
        return nil
    }
}
