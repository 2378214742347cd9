import Outstation

/// Chooses the station of a listener for a master's address: the one whose filter matches,
/// else the listener's `others` station. Filters do not overlap (checked at config load).
struct StationAdmission {
    let stations: [Station]

    func station(for address: IPAddress) -> Station? {
        stations.first { $0.configuration.filter.matches(address) }
            ?? stations.first { $0.configuration.filter == .others }
    }
}
