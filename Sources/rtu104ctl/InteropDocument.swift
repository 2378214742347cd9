import Config
import IEC104
import Outstation
import TLS

/// The interoperability list of IEC 60870-5-104 clause 9 (IEC 60870-5-101 clause 8) for one daemon configuration.
///
/// Every entry comes from the tables the daemon itself uses — ``PointKind`` and the command point kinds for the type of each
/// point, the station's ``TimeTagPolicy`` for its events, ``StationRequestTable`` for the requests a station accepts
/// and their causes — so the document cannot say what the wire does not.
struct InteropDocument {
    /// How the document marks a type identification.
    enum Usage: String {
        case used
        case notUsed = "not used"
        case notSupported = "not supported"
    }

    let configuration: DaemonConfiguration
    /// The types this configuration sends or accepts, with every cause of transmission used with them.
    let causes: [TypeID: Set<UInt8>]

    init(configuration: DaemonConfiguration) {
        self.configuration = configuration
        causes = Self.usedCauses(configuration)
    }

    var usedTypes: Set<TypeID> { Set(causes.keys) }

    /// Negative confirmations a station answers a request with (COT 44–47, P/N set).
    static let negativeCauses: [UInt8] = [44, 45, 46, 47]

    /// Whether the daemon can send or accept `typeID` at all, whatever the configuration.
    static func isSupported(_ typeID: TypeID) -> Bool {
        if typeID == .M_EI_NA_1 { return true }
        if typeID.isMonitorDirection {
            return PointKind.allCases.contains { $0.typeID == typeID || $0.timeTaggedTypeID == typeID }
        }
        if typeID.isCommand {
            return Self.allCases(of: \CommandPointDefinition.kind).contains(where: { $0.typeID == typeID || $0.timeTaggedTypeID == typeID })
        }
        return StationRequestTable.isHandled(typeID, acceptTestCommandWithoutTime: true)
    }

    /// Every case of the type at `path`: the station's command kinds, which rtu104ctl's own `CommandKind` (the
    /// command subcommand's argument) hides, and whose module name its `Outstation` type hides.
    private static func allCases<Kind: CaseIterable>(of path: KeyPath<CommandPointDefinition, Kind>) -> Kind.AllCases {
        Kind.allCases
    }

    func usage(of typeID: TypeID) -> Usage {
        if causes[typeID] != nil { return .used }
        return Self.isSupported(typeID) ? .notUsed : .notSupported
    }

    // MARK: Deriving the used types

    private static func usedCauses(_ configuration: DaemonConfiguration) -> [TypeID: Set<UInt8>] {
        var causes: [TypeID: Set<UInt8>] = [:]
        func add(_ typeID: TypeID, _ list: some Sequence<UInt8>) { causes[typeID, default: []].formUnion(list) }

        let stations = configuration.stations
        let points = configuration.points
        let feedbackTargets = Set(points.commandPoints.compactMap(\.feedback))
        for point in points.monitorPoints {
            let kind = point.kind
            // Interrogation and read replies carry the type without time tag.
            if kind == .counter {
                add(kind.typeID, [Cause.request.rawValue, Cause.requestedByGeneralCounter.rawValue])
                if let group = point.counterGroup { add(kind.typeID, [Cause.requestedByCounterGroup(group).rawValue]) }
            } else {
                add(kind.typeID, [Cause.request.rawValue, Cause.interrogatedByStation.rawValue])
                add(kind.typeID, point.groups.groups.map { Cause.interrogatedByGroup($0).rawValue })
            }
            if let periodic = point.periodic { add(kind.typeID, [periodic.cause.rawValue]) }
            // Events: the type each station serving the point's common address sends by its time_tags policy.
            let policies = stations.filter { $0.serves(point.address.commonAddress) }.map(\.timeTags)
            for policy in policies.isEmpty ? [TimeTagPolicy.perPoint] : policies {
                let eventType = policy.timeTagged(point) ? kind.timeTaggedTypeID : kind.typeID
                add(eventType, [Cause.spontaneous.rawValue])
                if feedbackTargets.contains(point.address) { add(eventType, [Cause.returnInformationRemote.rawValue]) }
            }
        }
        if !stations.isEmpty { add(.M_EI_NA_1, [Cause.initialized.rawValue]) }

        for command in points.commandPoints {
            var types: [TypeID] = []
            if command.timeTag.accepts(timeTagged: false) { types.append(command.kind.typeID) }
            if command.timeTag.accepts(timeTagged: true) { types.append(command.kind.timeTaggedTypeID) }
            for typeID in types where command.accepts(typeID) {
                add(typeID, requestCauses(typeID, terminated: command.sendsTermination))
            }
        }

        // File transfer in monitor direction, once there is a [files NAME] area; a request is refused as others are.
        if !configuration.fileAreas.isEmpty {
            for use in StationRequestTable.fileTransfer {
                add(use.typeID, use.causes.map(\.rawValue) + (use.role == .sent ? [] : negativeCauses))
            }
        }

        guard !stations.isEmpty else { return causes }
        let acceptsTestWithoutTime = stations.contains(where: \.acceptTestCommandWithoutTime)
        for typeID in TypeID.allCases where !typeID.isMonitorDirection && !typeID.isCommand
            && StationRequestTable.isHandled(typeID, acceptTestCommandWithoutTime: acceptsTestWithoutTime) {
            let terminated = typeID == .C_IC_NA_1 || typeID == .C_CI_NA_1
            add(typeID, requestCauses(typeID, terminated: terminated))
        }
        return causes
    }

    /// The causes a request of `typeID` may carry (``StationRequestTable``), their confirmations, the termination
    /// if one is sent, and the negative confirmations.
    private static func requestCauses(_ typeID: TypeID, terminated: Bool) -> [UInt8] {
        var list: [UInt8] = []
        for cause in StationRequestTable.acceptedCauses(for: typeID) {
            list.append(cause.rawValue)
            if cause == .activation { list.append(Cause.activationConfirmation.rawValue) }
            if cause == .deactivation { list.append(Cause.deactivationConfirmation.rawValue) }
        }
        if terminated { list.append(Cause.activationTermination.rawValue) }
        return list + negativeCauses
    }
}
