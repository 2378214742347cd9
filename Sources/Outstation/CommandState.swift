public import IEC104

/// Select-before-operate state and the commands a station has handed to its handler.
struct CommandState {
    /// How long a select stays valid (IEC 60870-5-101 leaves it to the outstation).
    var selectTimeout: Duration = .seconds(10)

    struct Selection {
        /// The command element with the select bit cleared, compared with the execute that follows.
        let element: InformationElement
        let expires: LinkInstant
    }

    struct Pending {
        let request: ASDURequest
        let connection: ConnectionID
        let point: CommandPointDefinition
        let isSelect: Bool
        let element: InformationElement
    }

    private(set) var selections: [PointAddress: Selection] = [:]
    private(set) var pending: [UInt64: Pending] = [:]
    private var nextID: UInt64 = 1

    mutating func makeID() -> UInt64 {
        defer { nextID += 1 }
        return nextID
    }

    mutating func add(_ command: Pending, id: UInt64) { pending[id] = command }

    mutating func finish(_ id: UInt64) -> Pending? { pending.removeValue(forKey: id) }

    mutating func select(_ element: InformationElement, at address: PointAddress, now: LinkInstant) {
        selections[address] = Selection(element: element, expires: now + selectTimeout)
    }

    /// Consumes the selection for an execute; true if it matches.
    mutating func takeSelection(matching element: InformationElement, at address: PointAddress, now: LinkInstant) -> Bool {
        guard let selection = selections.removeValue(forKey: address) else { return false }
        return selection.expires > now && selection.element == element
    }

    mutating func cancelSelection(at address: PointAddress) -> Bool { selections.removeValue(forKey: address) != nil }

    /// Withdraws the commands on `address` that `connection` is still waiting for, oldest first; their
    /// results will find nothing to answer.
    mutating func cancelPending(at address: PointAddress, connection: ConnectionID) -> [UInt64] {
        let ids = pending.filter { $0.value.point.address == address && $0.value.connection == connection }.keys.sorted()
        for id in ids { pending.removeValue(forKey: id) }
        return ids
    }

    mutating func expireSelections(now: LinkInstant) {
        selections = selections.filter { $0.value.expires > now }
    }

    /// A closed session's selections are void; its pending commands still finish, unanswered.
    mutating func connectionEnded() { selections.removeAll() }

    var nextDeadline: LinkInstant? { selections.values.map(\.expires).min() }
}

extension InformationElement {
    /// The select/execute bit of a command element, nil for other elements.
    var commandSelectBit: Bool? {
        switch self {
        case .singleCommand(let command, _): command.isSelect
        case .doubleCommand(let command, _): command.isSelect
        case .regulatingStepCommand(let command, _): command.isSelect
        case .setpointNormalized(_, let qos, _), .setpointScaled(_, let qos, _), .setpointFloat(_, let qos, _): qos.isSelect
        // C_BO has no S/E bit: a bitstring command is always a direct execute.
        case .bitstringCommand: false
        default: nil
        }
    }

    /// The command with the select bit cleared and without time tag, to compare a select with its execute.
    var commandIdentity: InformationElement {
        switch self {
        case .singleCommand(var command, _):
            command.isSelect = false
            return .singleCommand(command)
        case .doubleCommand(var command, _):
            command.isSelect = false
            return .doubleCommand(command)
        case .regulatingStepCommand(var command, _):
            command.isSelect = false
            return .regulatingStepCommand(command)
        case .setpointNormalized(let value, var qos, _):
            qos.isSelect = false
            return .setpointNormalized(value, qos)
        case .setpointScaled(let value, var qos, _):
            qos.isSelect = false
            return .setpointScaled(value, qos)
        case .setpointFloat(let value, var qos, _):
            qos.isSelect = false
            return .setpointFloat(value, qos)
        case .bitstringCommand(let bits, _):
            return .bitstringCommand(bits)
        default:
            return self
        }
    }

    /// The value a feedback point of `kind` takes when this command succeeds; nil if they do not fit.
    public func feedbackValue(for kind: PointKind, current: PointValue) -> PointValue? {
        switch (self, kind) {
        case (.singleCommand(let command, _), .single): return .single(command.isOn)
        case (.singleCommand(let command, _), .double): return .double(command.isOn ? .on : .off)
        case (.doubleCommand(let command, _), .double): return .double(command.state == .on ? .on : .off)
        case (.doubleCommand(let command, _), .single): return .single(command.state == .on)
        case (.regulatingStepCommand(let command, _), .step):
            guard case .step(let position) = current else { return nil }
            let delta: Int8 = command.direction == .higher ? 1 : -1
            let moved = Int8(clamping: Int(position.value) + Int(delta))
            return .step(StepPosition(value: moved))
        case (.setpointNormalized(let value, _, _), _): return PointValue.measurement(value.doubleValue, as: kind)
        case (.setpointScaled(let value, _, _), _): return PointValue.measurement(Double(value), as: kind)
        case (.setpointFloat(let value, _, _), _): return PointValue.measurement(Double(value), as: kind)
        case (.bitstringCommand(let bits, _), .bitstring): return .bitstring(bits)
        default: return nil
        }
    }
}

extension PointValue {
    /// A number as a measured value of `kind`; nil for kinds that are not measurements or a value that does not fit.
    static func measurement(_ number: Double, as kind: PointKind) -> PointValue? {
        guard number.isFinite else { return nil }
        switch kind {
        case .normalized: return .normalized(NormalizedValue(number))
        case .scaled:
            guard number >= -32768, number <= 32767 else { return nil }
            return .scaled(Int16(number.rounded()))
        case .float: return .float(Float(number))
        default: return nil
        }
    }
}
