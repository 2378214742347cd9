import IEC104

/// The points of one common address sent with one period and cause.
struct PeriodicScan {
    let commonAddress: UInt16
    let period: Duration
    let cause: Cause
    let indices: [Int32]
    var due: LinkInstant

    static func plan(image: ProcessImage, commonAddresses: [UInt16], now: LinkInstant) -> [PeriodicScan] {
        var groups: [String: PeriodicScan] = [:]
        for (position, definition) in image.definitions.enumerated() {
            guard let periodic = definition.periodic,
                  commonAddresses.contains(definition.address.commonAddress) else { continue }
            let key = "\(definition.address.commonAddress)/\(periodic.cause.rawValue)/\(periodic.period)"
            if groups[key] == nil {
                groups[key] = PeriodicScan(commonAddress: definition.address.commonAddress, period: periodic.period,
                                           cause: periodic.cause, indices: [], due: now + periodic.period)
            }
            let existing = groups[key]!
            groups[key] = PeriodicScan(commonAddress: existing.commonAddress, period: existing.period, cause: existing.cause,
                                       indices: existing.indices + [Int32(position)], due: existing.due)
        }
        return groups.keys.sorted().compactMap { groups[$0] }
    }
}
