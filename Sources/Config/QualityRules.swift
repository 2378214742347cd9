import Outstation

/// The keys of quality that follows its source: `stale_after` (point and station) and a feeder's `points`.
extension CrossValidator {
    /// Gives every point without its own `stale_after` the default of the stations that serve its common address;
    /// where several stations with a default serve it, the shortest wins (the point is stale for the most
    /// demanding master, and all masters see the same quality: there is one process image). A point's own
    /// `stale_after = 0` keeps it unwatched.
    static func resolveStaleAfter(_ points: inout PointTable, stations: [StationConfiguration],
                                  defaults: [String: Duration]) {
        guard !defaults.isEmpty else { return }
        var byCommonAddress: [UInt16: Duration] = [:]
        for station in stations {
            guard let limit = defaults[station.name] else { continue }
            for commonAddress in station.commonAddresses {
                byCommonAddress[commonAddress] = min(byCommonAddress[commonAddress] ?? limit, limit)
            }
        }
        guard !byCommonAddress.isEmpty else { return }
        for index in points.monitorPoints.indices where points.monitorPoints[index].staleAfter == nil {
            if let limit = byCommonAddress[points.monitorPoints[index].address.commonAddress] {
                points.monitorPoints[index].staleAfter = limit
            }
        }
    }

    /// Every point a feeder lists in `points` must be a monitor point of the tables.
    func checkFeederPoints(_ feeders: [FeederConfiguration], locations: [[SourceLocation]], points: PointTable) {
        for (feederIndex, feeder) in feeders.enumerated() {
            for (spanIndex, span) in feeder.points.enumerated() {
                let missing = span.addresses.filter { points.monitorPoints.sortedIndex(of: $0, by: \.address) == nil }
                guard !missing.isEmpty else { continue }
                let location = locations[feederIndex].indices.contains(spanIndex) ? locations[feederIndex][spanIndex] : feeder.location
                let what = missing.count == 1 ? "no monitor point \(missing[0]) is" : "\(missing.count) of \(span) are not monitor points ("
                    + PointRanges.compact(missing, limit: 5) + "), they are not"
                diagnostics.error(location, subject: "feeder '\(feeder.name)'", key: "points",
                                  "\(what) defined in the point tables" + Self.nearest(to: missing[0], in: points))
            }
        }
    }

    /// `; did you mean 47:3210?`: the monitor point of the same common address with the closest IOA, or nothing.
    static func nearest(to address: PointAddress, in points: PointTable) -> String {
        var best: PointAddress?
        for point in points.monitorPoints where point.address.commonAddress == address.commonAddress {
            let distance = abs(Int64(point.address.objectAddress) - Int64(address.objectAddress))
            if let current = best, abs(Int64(current.objectAddress) - Int64(address.objectAddress)) <= distance { continue }
            best = point.address
        }
        if let best { return "; did you mean \(best)?" }
        let commonAddresses = Set(points.monitorPoints.map(\.address.commonAddress)).sorted()
        guard !commonAddresses.isEmpty else { return "" }
        return "; common address \(address.commonAddress) has no monitor points (the tables use "
            + commonAddresses.prefix(5).map(String.init).joined(separator: ", ") + (commonAddresses.count > 5 ? ", …" : "") + ")"
    }
}
