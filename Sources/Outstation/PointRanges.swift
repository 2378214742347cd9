/// Lists of points in few words.
public enum PointRanges {
    /// `47:3201, 47:3300-3310, and 4 more`: the points sorted, runs of consecutive IOAs in one common address
    /// written as ranges, at most `limit` items.
    public static func compact(_ points: [PointAddress], limit: Int = 10) -> String {
        var runs: [(first: PointAddress, last: PointAddress)] = []
        for point in points.sorted() {
            if let last = runs.last?.last, last.commonAddress == point.commonAddress,
               last.objectAddress &+ 1 == point.objectAddress {
                runs[runs.count - 1].last = point
            } else if runs.last?.last != point {
                runs.append((point, point))
            }
        }
        let items = runs.prefix(limit).map { run in
            run.first == run.last ? "\(run.first)" : "\(run.first)-\(run.last.objectAddress)"
        }
        let more = runs.count - items.count
        return items.joined(separator: ", ") + (more > 0 ? ", and \(more) more" : "")
    }
}
