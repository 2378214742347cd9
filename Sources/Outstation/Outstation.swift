public import IEC104

/// The whole RTU without I/O: one process image and the stations that serve it.
///
/// Point updates fan out from here to the event buffer of every station that serves the
/// point's common address, in the order they are applied. Owned by one serial executor.
public final class Outstation {
    public let image: ProcessImage
    public let stations: [Station]
    private let stationsByName: [String: Station]
    private let stationsByCommonAddress: [UInt16: [Station]]
    private var observers: [UInt64: (PointEvent) -> Void] = [:]
    private var nextObserver: UInt64 = 1

    public init(points: PointTable, stations configurations: [StationConfiguration], now: LinkInstant, wallTime: Int64) {
        let image = ProcessImage(table: points, now: wallTime)
        self.image = image
        stations = configurations.map { Station(configuration: $0, image: image, now: now) }
        var byName: [String: Station] = [:]
        var byCommonAddress: [UInt16: [Station]] = [:]
        for station in stations {
            byName[station.name] = station
            for commonAddress in station.configuration.commonAddresses {
                byCommonAddress[commonAddress, default: []].append(station)
            }
        }
        stationsByName = byName
        stationsByCommonAddress = byCommonAddress
    }

    public func station(named name: String) -> Station? { stationsByName[name] }

    /// Calls `body` with every event from now on (for `rtu104ctl watch`); returns a token for ``removeObserver(_:)``.
    public func observe(_ body: @escaping (PointEvent) -> Void) -> UInt64 {
        defer { nextObserver += 1 }
        observers[nextObserver] = body
        return nextObserver
    }

    public func removeObserver(_ token: UInt64) { observers.removeValue(forKey: token) }

    /// Applies updates all or nothing: if any names an unknown point or the wrong kind, none is applied.
    /// Returns how many events they caused.
    @discardableResult
    public func apply(_ updates: [PointUpdate], wallTime: Int64, cause: Cause = .spontaneous) throws(PointUpdateError) -> Int {
        try validate(updates)
        var events = 0
        for update in updates {
            guard let index = image.index(of: update.address),
                  let event = try image.apply(update, at: index, now: wallTime, cause: cause) else { continue }
            fanOut(event, skipping: nil)
            events += 1
        }
        return events
    }

    private func validate(_ updates: [PointUpdate]) throws(PointUpdateError) {
        for update in updates {
            guard let state = image.state(at: update.address) else { throw .unknownPoint(update.address) }
            guard state.definition.kind == update.value.kind else {
                throw .kindMismatch(update.address, expected: state.definition.kind, found: update.value.kind)
            }
        }
    }

    private func fanOut(_ event: PointEvent, skipping origin: Station?) {
        for observer in observers.values { observer(event) }
        let commonAddress = image[event.pointIndex].definition.address.commonAddress
        for station in stationsByCommonAddress[commonAddress] ?? [] where station !== origin {
            station.enqueue(event)
        }
    }

    /// Reports a finished command to its station. Updates of a successful command become return
    /// information (COT 11): inline between ACTCON and ACTTERM for the commanding station, buffered for the others.
    /// Returns the reasons updates were refused, for the log.
    public func complete(_ request: CommandRequest, result: CommandResult, now: LinkInstant, wallTime: Int64) -> [String] {
        guard let station = stationsByName[request.station] else { return [] }
        switch result {
        case .failure:
            station.completeCommand(request.id, succeeded: false, feedback: [], now: now)
            return []
        case .success(let updates):
            var problems: [String] = []
            var feedback: [PointEvent] = []
            for update in updates {
                do {
                    guard let event = try image.apply(update, now: wallTime, cause: .returnInformationRemote) else { continue }
                    feedback.append(event)
                    fanOut(event, skipping: station)
                } catch {
                    problems.append(error.description)
                }
            }
            station.completeCommand(request.id, succeeded: true, feedback: feedback, now: now)
            return problems
        }
    }
}
