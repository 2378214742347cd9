import Config
import Foundation
import Logging
import IEC104
import Outstation
import Server

/// A command point's handler run from the control socket (`rtu104ctl exec 47:2001 on --select`), so that the
/// wiring can be commissioned before a SCADA master exists, and without a master's connection taking over
/// the station another master is using.
///
/// The requests are built as a station builds them (the element with its select bit, the suggested feedback)
/// and go to the daemon's own command handler; a positive result's updates become return information (COT 11)
/// for every station, as a station's command's would.
public struct ExecPlan: Sendable, Equatable {
    let point: CommandPointDefinition
    let value: String
    /// The select (when asked for) and then the execute.
    let requests: [CommandRequest]

    public static func == (lhs: ExecPlan, rhs: ExecPlan) -> Bool {
        lhs.point == rhs.point && lhs.value == rhs.value && lhs.requests.map(\.isSelect) == rhs.requests.map(\.isSelect)
    }
}

enum ControlExec {
    /// What handlers see as station and peer (`RTU104_STATION`, `RTU104_PEER`) for a command from the control socket.
    static let station = "rtu104ctl"
    static let peer = "control socket"

    /// The plan for an `exec` request, an error for a malformed one, nil when the line is no `exec` at all.
    /// `newID` gives each command its id: the outstation's (`Outstation.reserveCommandID()`), so that a handler
    /// never sees a station's command and an operator's under one id.
    static func parse(_ line: String, image: ProcessImage,
                      newID: () -> UInt64) -> Result<ExecPlan, ControlRequestError>? {
        guard line.contains("exec"),
              let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
              object["op"] as? String == "exec" else { return nil }
        let allowed: Set<String> = ["op", "point", "value", "select", "qualifier", "id"]
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            return .failure(ControlRequestError("unknown key \"\(unknown)\" for op exec"))
        }
        guard let pointText = object["point"] as? String else {
            return .failure(ControlRequestError("exec needs \"point\": \"CA:IOA\" of a command point"))
        }
        guard let address = parseAddress(pointText) else {
            return .failure(ControlRequestError("'\(pointText)' is not CA:IOA (e.g. 47:2001)"))
        }
        guard let point = image.commandPoints[address] else {
            if image.state(at: address) != nil {
                return .failure(ControlRequestError("\(address) is not a command point (it is a monitor point; exec only takes command points)"))
            }
            return .failure(ControlRequestError("no point \(address)"))
        }
        let value: String
        switch object["value"] {
        case let text as String: value = text
        case let number as NSNumber: value = number.stringValue
        default: return .failure(ControlRequestError("exec needs \"value\", e.g. \"on\" or 230.5"))
        }
        let select = object["select"] as? Bool ?? false
        let qualifier = object["qualifier"] as? Int ?? 0
        guard (0...(point.kind.hasCommandQualifier ? 31 : 127)).contains(qualifier) else {
            return .failure(ControlRequestError("qualifier \(qualifier) is out of range for \(point.kind.typeID.mnemonic)"))
        }
        // The station's select-before-operate rules, so that exec proves what a master would meet.
        switch (point.selectBeforeOperate, select) {
        case (.no, true): return .failure(ControlRequestError("\(address) does not take select-before-operate; leave out select"))
        case (.required, false): return .failure(ControlRequestError("\(address) requires select-before-operate; add select"))
        default: break
        }
        guard let execute = element(value, kind: point.kind, select: false, qualifier: UInt8(qualifier)) else {
            return .failure(ControlRequestError("'\(value)' is not a value for \(address) (\(point.kind.typeID.mnemonic)); use \(accepted(point.kind))"))
        }
        var feedback: PointUpdate?
        if let feedbackAddress = point.feedback, let state = image.state(at: feedbackAddress),
           let feedbackValue = execute.feedbackValue(for: state.definition.kind, current: state.value) {
            feedback = PointUpdate(address: feedbackAddress, value: feedbackValue)
        }
        var requests: [CommandRequest] = []
        if select, let selecting = element(value, kind: point.kind, select: true, qualifier: UInt8(qualifier)) {
            requests.append(request(newID(), point, selecting, isSelect: true, feedback: feedback))
        }
        requests.append(request(newID(), point, execute, isSelect: false, feedback: feedback))
        return .success(ExecPlan(point: point, value: value, requests: requests))
    }

    private static func request(_ id: UInt64, _ point: CommandPointDefinition, _ element: InformationElement, isSelect: Bool,
                                feedback: PointUpdate?) -> CommandRequest {
        CommandRequest(id: id, station: station, peer: peer, point: point,
                       element: element, isSelect: isSelect, originator: 0, time: nil, suggestedFeedback: feedback)
    }

    /// Runs the plan through `handler` and applies a positive result's updates as return information;
    /// returns the reply line.
    static func run(_ plan: ExecPlan, handler: any CommandHandler, server: OutstationServer, logger: Logger) async -> String {
        let (reply, outcome) = await execute(plan, handler: handler, server: server)
        // An operator's command from the control socket is as much a command as a master's: one line says who and what.
        let what = "\(plan.point.address) \(plan.point.kind.typeID.mnemonic) \(plan.value)\(plan.requests.count > 1 ? " with select" : "")"
        logger.notice("exec from the control socket: \(what): \(outcome)",
                      metadata: ["station": "\(station)", "peer": "\(peer)", "ca": "\(plan.point.address.commonAddress)",
                                 "ioa": "\(plan.point.address.objectAddress)", "type": "\(plan.point.kind.typeID.mnemonic)"])
        return reply
    }

    private static func execute(_ plan: ExecPlan, handler: any CommandHandler,
                                server: OutstationServer) async -> (reply: String, outcome: String) {
        var steps: [[String: Any]] = []
        var reply: [String: Any] = ["ok": true, "point": "\(plan.point.address)", "type": plan.point.kind.typeID.mnemonic,
                                    "value": plan.value]
        for request in plan.requests {
            let started = ContinuousClock.now
            let result = await handler.execute(request)
            let elapsed = started.duration(to: .now)
            let milliseconds = (Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            var step: [String: Any] = ["step": request.isSelect ? "select" : "execute",
                                       "milliseconds": (milliseconds * 100).rounded() / 100]
            switch result {
            case .failure(let reason):
                step["positive"] = false
                step["reason"] = reason
                steps.append(step)
                reply["positive"] = false
                reply["reason"] = reason
                reply["steps"] = steps
                return (ControlService.render(reply), "\(step["step"] ?? "") negative: \(reason)")
            case .success(let updates):
                step["positive"] = true
                let problems = (try? await server.perform { outstation -> [String] in
                    var problems: [String] = []
                    for update in updates {
                        do {
                            try outstation.apply([update], wallTime: SystemClock.wallMilliseconds(), now: SystemClock.monotonicNow(),
                                               cause: .returnInformationRemote)
                        } catch let error as PointUpdateError {
                            problems.append(error.description)
                        } catch {
                            problems.append("\(error)")
                        }
                    }
                    return problems
                }.get()) ?? []
                if !problems.isEmpty { step["feedback_refused"] = problems }
                steps.append(step)
            }
        }
        reply["positive"] = true
        reply["steps"] = steps
        if let feedback = plan.point.feedback,
           let state = try? await server.perform({ outstation in outstation.image.state(at: feedback).map(Described.init) }).get() {
            reply["feedback"] = state.object
        }
        return (ControlService.render(reply), "positive")
    }

    /// A monitor point's description carried off the event loop.
    struct Described: @unchecked Sendable {
        // Only JSON values (strings, numbers, arrays of strings): immutable once built.
        let object: [String: Any]
        init(_ state: MonitorPointState) { object = ControlService.describe(state) }
    }

    /// The element of a command of `kind` with the value `text` as the point tables and `rtu104ctl command` write it.
    static func element(_ text: String, kind: CommandKind, select: Bool, qualifier: UInt8) -> InformationElement? {
        let word = text.lowercased()
        let qu = CommandQualifier(rawValue: qualifier)
        switch kind {
        case .single:
            let on: Bool
            switch word {
            case "on", "true", "1", "close": on = true
            case "off", "false", "0", "open": on = false
            default: return nil
            }
            return .singleCommand(SingleCommand(isOn: on, qualifier: qu, isSelect: select), time: nil)
        case .double:
            let state: DoubleCommandState
            switch word {
            case "on", "true", "2", "close": state = .on
            case "off", "false", "1", "open": state = .off
            default: return nil
            }
            return .doubleCommand(DoubleCommand(state: state, qualifier: qu, isSelect: select), time: nil)
        case .step:
            let direction: StepDirection
            switch word {
            case "higher", "raise", "up", "+", "2": direction = .higher
            case "lower", "down", "-", "1": direction = .lower
            default: return nil
            }
            return .regulatingStepCommand(RegulatingStepCommand(direction: direction, qualifier: qu, isSelect: select), time: nil)
        case .normalized:
            guard let number = Double(text), number.isFinite, (-1...1).contains(number) else { return nil }
            return .setpointNormalized(NormalizedValue(number), SetpointQualifier(qualifier: qualifier, isSelect: select), time: nil)
        case .scaled:
            guard let number = Int16(text) else { return nil }
            return .setpointScaled(number, SetpointQualifier(qualifier: qualifier, isSelect: select), time: nil)
        case .float:
            guard let number = Float(text), number.isFinite else { return nil }
            return .setpointFloat(number, SetpointQualifier(qualifier: qualifier, isSelect: select), time: nil)
        case .bitstring:
            let bits: UInt32? = word.hasPrefix("0x") ? UInt32(word.dropFirst(2), radix: 16) : UInt32(word)
            guard let bits else { return nil }
            return .bitstringCommand(bits, time: nil)
        }
    }

    /// `47:2001`, with the point tables' ranges.
    static func parseAddress(_ text: String) -> PointAddress? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let ca = Int(parts[0]), let ioa = Int(parts[1]),
              (1...65534).contains(ca), (1...16_777_215).contains(ioa) else { return nil }
        return PointAddress(commonAddress: UInt16(ca), objectAddress: UInt32(ioa))
    }

    private static func accepted(_ kind: CommandKind) -> String {
        switch kind {
        case .single: "on/off"
        case .double: "on/off"
        case .step: "higher/lower"
        case .normalized: "a number from -1 to 1"
        case .scaled: "an integer from -32768 to 32767"
        case .float: "a number"
        case .bitstring: "0...4294967295 or 0x…"
        }
    }
}

extension CommandKind {
    /// Single, double and step commands carry a qualifier of command (QU 0–31), set-points a QL (0–127).
    var hasCommandQualifier: Bool { self == .single || self == .double || self == .step }
}
