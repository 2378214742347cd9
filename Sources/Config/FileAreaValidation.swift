public import Outstation

extension CrossValidator {
    /// `[files NAME]` areas against the stations and the points: a station serves the area's common address, and
    /// its IOAs belong to no monitor or command point and to no other area of that common address (a file is an
    /// information object of its own). Returns the areas without errors.
    func checkFileAreas(_ drafts: [DaemonConfigReader.FileAreaDraft], stations: [StationConfiguration], points: PointTable,
                        pointSources: PointSources) -> [DaemonConfigReader.FileAreaDraft] {
        let served = Set(stations.flatMap(\.commonAddresses))
        var accepted: [DaemonConfigReader.FileAreaDraft] = []
        for (index, draft) in drafts.enumerated() {
            let area = draft.area
            let ca = area.commonAddress
            let range = area.objectAddresses
            var valid = true
            if !stations.isEmpty, !served.contains(ca) {
                let list = served.sorted().prefix(8).map(String.init).joined(separator: ", ")
                diagnostics.error(draft.place("common_address"), subject: draft.subject, key: "common_address",
                                  "no station serves common address \(ca), so no master could fetch these files; add it to a "
                                  + "station's common_addresses" + (list.isEmpty ? "" : " (the stations serve \(list))"))
                valid = false
            }
            let monitors = Self.monitorPoints(in: range, of: ca, points.monitorPoints)
            let commands = points.commandPoints.filter { $0.address.commonAddress == ca && range.contains($0.address.objectAddress) }
                .map(\.address).sorted()
            let overlapping = (monitors.map { ($0, "monitor") } + commands.map { ($0, "command") }).sorted { $0.0 < $1.0 }
            if let (first, sort) = overlapping.first {
                let place = pointSources[first].map { " (at \($0))" } ?? ""
                let more = overlapping.count > 1
                    ? ", \(overlapping.count) points in all (" + PointRanges.compact(overlapping.map(\.0), limit: 5) + ")" : ""
                diagnostics.error(draft.place("ioa"), subject: draft.subject, key: "ioa",
                                  "ioa = \(Self.rangeText(range)) overlaps the \(sort) point \(first)\(place)\(more); "
                                  + "each file takes an IOA of its own, so choose a range of common address \(ca) that no point uses")
                valid = false
            }
            for earlier in drafts[..<index] where earlier.area.commonAddress == ca && earlier.area.objectAddresses.overlaps(range) {
                diagnostics.error(draft.place("ioa"), subject: draft.subject, key: "ioa",
                                  "ioa = \(Self.rangeText(range)) overlaps ioa = \(Self.rangeText(earlier.area.objectAddresses)) of "
                                  + "\(earlier.subject) (at \(earlier.place("ioa"))) on common address \(ca); give each area IOAs of its own")
                valid = false
            }
            if valid { accepted.append(draft) }
        }
        return accepted
    }

    /// `30001-30099`, or `30001` for one IOA.
    static func rangeText(_ range: ClosedRange<UInt32>) -> String {
        range.count == 1 ? "\(range.lowerBound)" : "\(range.lowerBound)-\(range.upperBound)"
    }

    /// The addresses of the monitor points (sorted by address) of `commonAddress` within `range` (binary search).
    static func monitorPoints(in range: ClosedRange<UInt32>, of commonAddress: UInt16,
                              _ monitors: [MonitorPointDefinition]) -> [PointAddress] {
        let first = PointAddress(commonAddress: commonAddress, objectAddress: range.lowerBound)
        let last = PointAddress(commonAddress: commonAddress, objectAddress: range.upperBound)
        var low = 0, high = monitors.count
        while low < high {
            let middle = low + (high - low) / 2
            if monitors[middle].address < first { low = middle + 1 } else { high = middle }
        }
        var result: [PointAddress] = []
        while low < monitors.count, monitors[low].address <= last {
            result.append(monitors[low].address)
            low += 1
        }
        return result
    }
}

/// What a reload changes in the `[files NAME]` sections, for the reload message.
public enum FileAreaChanges {
    /// `files areas changed: 1 added (records), 1 removed (logs), 1 changed (dist)`, or nil when they are the same.
    public static func describe(from old: [FileArea], to new: [FileArea]) -> String? {
        let oldNames = Set(old.map(\.name)), newNames = Set(new.map(\.name))
        let added = new.map(\.name).filter { !oldNames.contains($0) }
        let removed = old.map(\.name).filter { !newNames.contains($0) }
        let changed = new.filter { area in old.contains { $0.name == area.name && $0 != area } }.map(\.name)
        var parts: [String] = []
        if !added.isEmpty { parts.append("\(added.count) added (\(added.joined(separator: ", ")))") }
        if !removed.isEmpty { parts.append("\(removed.count) removed (\(removed.joined(separator: ", ")))") }
        if !changed.isEmpty { parts.append("\(changed.count) changed (\(changed.joined(separator: ", ")))") }
        return parts.isEmpty ? nil : "files areas changed: " + parts.joined(separator: ", ")
    }
}
