public import IEC104

/// File transfer at the outstation's level: directory scans and the owner's file reads reach the stations here.
extension Outstation {
    /// Applies one scan of an area's directory; every station serving the area's common address is told of a
    /// change (its active master gets the directory spontaneously, a transfer of a changed file is broken off).
    /// `complete` is false for a folder that could not be read (see ``FileCatalog/apply(scan:area:complete:)``).
    public func applyFileScan(_ scan: [ScannedFile], area: String, complete: Bool = true,
                              now: LinkInstant) -> (change: CatalogChange?, actions: [(Station, [StationAction])]) {
        guard let change = files.apply(scan: scan, area: area, complete: complete) else { return (nil, []) }
        guard !change.isEmpty else { return (change, []) }
        return (change, tell(change, now: now))
    }

    /// The owner read a section a station asked for.
    public func fileSectionRead(_ read: FileSectionRead, result: FileReadResult,
                                now: LinkInstant) -> (station: Station, actions: [StationAction])? {
        guard let station = station(named: read.station) else { return nil }
        return (station, station.fileSectionRead(read, result: result, now: now))
    }

    /// The owner deleted a file a master asked to delete (or says why it could not): the master is answered and
    /// every station's master sees the new directory.
    public func fileDeleted(_ deletion: FileDeletion, failure: String?, now: LinkInstant) -> [(Station, [StationAction])] {
        var result: [(Station, [StationAction])] = []
        if let station = station(named: deletion.station) {
            result.append((station, station.fileDeleted(deletion, failure: failure, now: now)))
        }
        if failure == nil, let change = files.remove(deletion.file) { result += tell(change, now: now) }
        return result
    }

    /// A reload's `[files]` areas. Files of areas that changed leave the catalog until the next scan lists them.
    public func replaceFileAreas(_ areas: [FileArea], now: LinkInstant) -> [(Station, [StationAction])] {
        var result: [(Station, [StationAction])] = []
        for commonAddress in files.replaceAreas(areas).sorted() {
            for station in stations where station.configuration.commonAddresses.contains(commonAddress) {
                result.append((station, station.filesReplaced(commonAddress: commonAddress, now: now)))
            }
        }
        return result
    }

    private func tell(_ change: CatalogChange, now: LinkInstant) -> [(Station, [StationAction])] {
        stations.filter { $0.configuration.commonAddresses.contains(change.commonAddress) }
            .map { ($0, $0.filesChanged(change, now: now)) }
    }
}
