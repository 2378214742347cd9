import Outstation

/// The point tables' `simulate` key: `sine(10, 60s, 50)` and the other generators of ``SimulationGenerator``.
extension PointTableReader {
    /// One generator's spelling: its parameters (the optional ones last) and what it is for.
    struct SimulationSyntax {
        var name: String
        var parameters: [String]
        var optional: Int
        var usage: String { "\(name)(\(parameters.joined(separator: ", ")))" }
    }

    static let simulationSyntax: [SimulationSyntax] = [
        SimulationSyntax(name: "sine", parameters: ["amplitude", "period", "offset", "interval"], optional: 1),
        SimulationSyntax(name: "ramp", parameters: ["from", "to", "period", "interval"], optional: 1),
        SimulationSyntax(name: "random_walk", parameters: ["step", "min", "max", "interval"], optional: 0),
        SimulationSyntax(name: "toggle", parameters: ["interval"], optional: 0),
        SimulationSyntax(name: "counter", parameters: ["rate", "interval"], optional: 1),
    ]

    /// The shortest update interval: a lab's masters and logs should not be flooded by a typo (`1ms`).
    static let shortestSimulationInterval = Duration.milliseconds(100)
    /// Periods and intervals up to a day.
    static let longestSimulationDuration = Duration.seconds(86_400)

    /// `name(argument, ...)`; the point's kind is checked by the caller (it may be unknown or wrong itself).
    static func parseSimulation(_ value: ConfigValue) -> Result<SimulationGenerator, ValueError> {
        let names = simulationSyntax.map(\.name)
        let example = "e.g. sine(10, 60s, 50), ramp(0, 100, 5min), random_walk(0.5, 0, 100, 2s), toggle(10s) or counter(5)"
        guard let text = value.scalarText?.trimmed, !text.isEmpty else {
            return .failure(ValueError("\(value.display) is not a generator; write one of \(names.joined(separator: ", ")), \(example)"))
        }
        let name: String
        var arguments: [String] = []
        if let open = text.firstIndex(of: "(") {
            name = String(text[..<open].trimmed)
            guard text.hasSuffix(")") else {
                return .failure(ValueError("'\(text)' lacks its closing parenthesis; \(example)"))
            }
            let inside = text[text.index(after: open)..<text.index(before: text.endIndex)]
            if !inside.trimmed.isEmpty {
                arguments = inside.split(separator: ",", omittingEmptySubsequences: false).map { String($0.trimmed) }
            }
        } else {
            name = String(text)
        }
        guard let syntax = simulationSyntax.first(where: { $0.name == name.lowercased() }) else {
            return .failure(ValueError("unknown generator '\(name)'" + Suggestions.hint(for: name, in: names)
                                       + "; the generators are \(names.joined(separator: ", "))"))
        }
        let required = syntax.parameters.count - syntax.optional
        guard (required...syntax.parameters.count).contains(arguments.count) else {
            let wanted = syntax.optional == 0 ? "\(required)" : "\(required) or \(syntax.parameters.count)"
            return .failure(ValueError("\(syntax.name) takes \(wanted) argument\(wanted == "1" ? "" : "s"), \(syntax.usage)"
                                       + (syntax.optional > 0 ? " (the last one optional)" : "") + "; found \(arguments.count)"))
        }
        var problem: ValueError?
        func number(_ index: Int, positive: Bool = false) -> Double {
            guard problem == nil else { return 0 }
            let parameter = syntax.parameters[index]
            guard let parsed = Double(arguments[index].replacingUnderscores), parsed.isFinite else {
                problem = ValueError("\(syntax.name): \(parameter) '\(arguments[index])' is not a number; \(syntax.usage)")
                return 0
            }
            if positive, parsed <= 0 {
                problem = ValueError("\(syntax.name): \(parameter) must be more than 0, found \(arguments[index])")
            }
            return parsed
        }
        func duration(_ index: Int) -> Duration {
            guard problem == nil else { return .zero }
            guard index < arguments.count else { return SimulationGenerator.defaultInterval }
            let parameter = syntax.parameters[index]
            let argument = ConfigValue(.text(arguments[index]), at: value.location)
            switch ValueParsers.duration(argument, max: longestSimulationDuration) {
            case .failure(let failure):
                problem = ValueError("\(syntax.name): \(parameter): \(failure.message)")
                return .zero
            case .success(let parsed):
                if parameter == "interval", parsed < shortestSimulationInterval {
                    problem = ValueError("\(syntax.name): interval \(arguments[index]) is shorter than the allowed "
                                         + Format.duration(shortestSimulationInterval))
                }
                return parsed
            }
        }
        let generator: SimulationGenerator
        switch syntax.name {
        case "sine":
            generator = .sine(amplitude: number(0), period: duration(1), offset: number(2), interval: duration(3))
        case "ramp":
            generator = .ramp(from: number(0), to: number(1), period: duration(2), interval: duration(3))
        case "random_walk":
            let step = number(0, positive: true), low = number(1), high = number(2)
            if problem == nil, low >= high {
                problem = ValueError("random_walk: min \(arguments[1]) must be below max \(arguments[2])")
            }
            generator = .randomWalk(step: step, min: low, max: high, interval: duration(3))
        case "toggle":
            generator = .toggle(interval: duration(0))
        default:
            generator = .counter(rate: number(0, positive: true), interval: duration(1))
        }
        if let problem { return .failure(problem) }
        return .success(generator)
    }

    /// `simulate` on a point of the wrong kind: which kinds the generator fits, and which generator fits this one.
    static func simulationKindProblem(_ generator: SimulationGenerator, kind: PointKind) -> String? {
        guard !generator.fits(kind) else { return nil }
        let fitting: [String] = switch kind {
        case .float, .scaled, .normalized: ["sine", "ramp", "random_walk"]
        case .single, .double: ["toggle"]
        case .counter: ["counter"]
        case .step, .bitstring: []
        }
        let kinds = generator.kinds.map(\.rawValue).joined(separator: ", ")
        return "\(generator.name) applies to \(kinds) points, not to a \(kind.rawValue) point"
            + (fitting.isEmpty ? "; a \(kind.rawValue) point cannot be simulated" : "; for a \(kind.rawValue) point use "
               + fitting.joined(separator: ", "))
    }

    /// A generator whose values leave what the point's type holds: they are clamped, which a lab rarely means.
    static func simulationRangeWarning(_ generator: SimulationGenerator, kind: PointKind) -> String? {
        let range: ClosedRange<Double>
        switch generator {
        case .sine(let amplitude, _, let offset, _): range = (offset - abs(amplitude))...(offset + abs(amplitude))
        case .ramp(let from, let to, _, _): range = min(from, to)...max(from, to)
        case .randomWalk(_, let low, let high, _): range = low...high
        case .toggle, .counter: return nil
        }
        let limits: ClosedRange<Double>
        switch kind {
        case .normalized: limits = -1...1
        case .scaled: limits = -32768...32767
        default: return nil
        }
        guard !limits.contains(range.lowerBound) || !limits.contains(range.upperBound) else { return nil }
        func text(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }
        return "\(generator.name) goes from \(text(range.lowerBound)) to \(text(range.upperBound)), beyond the "
            + "\(text(limits.lowerBound))…\(text(limits.upperBound)) of a \(kind.rawValue) point; its values are clamped"
    }
}
