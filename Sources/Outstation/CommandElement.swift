public import IEC104

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
