import Config
import IEC104
import Outstation

private let kinds: [PointAddress: PointKind] = Dictionary(uniqueKeysWithValues: PointKind.allCases.enumerated().map {
    (PointAddress(commonAddress: 47, objectAddress: UInt32($0.offset + 1)), $0.element)
})

/// Parses the input as one control socket request line. Whatever it says, the parser answers with
/// a request or a reason; an accepted `set` only names known points with values of their kind.
/// The `set` fast path must agree with the located parser on every line it takes, bit for bit, and
/// `parse` (fast path, then located) must answer exactly as the located parser alone.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControl(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let line = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let located = ControlRequestParser.parseLocated(line, kindOf: { kinds[$0] })
    switch located {
    case .success(.set(let updates)):
        for update in updates where kinds[update.address] != update.value.kind {
            fatalError("set accepted \(update.value) for \(update.address)")
        }
    case .success(.get(let addresses)):
        _ = addresses
    case .success:
        break
    case .failure(let problem):
        if problem.message.isEmpty { fatalError("a refusal without a reason") }
    }
    if ControlRequestParser.parse(line, kindOf: { kinds[$0] }) != located {
        fatalError("parse and parseLocated differ")
    }
    if let fast = ControlRequestParser.parseSetFast(line, form: .controlRequest, kindOf: { kinds[$0] }) {
        guard case .success(.set(let expected)) = located, identical(fast, expected) else {
            fatalError("the fast path took a line as \(fast); the located parser says \(located)")
        }
    }
    // As a handler line: a set request, or one point that UpdateParser wraps into one.
    if let fast = ControlRequestParser.parseSetFast(line, form: .updateLine, kindOf: { kinds[$0] }) {
        // A line the fast path takes is ASCII, so UpdateParser's trimming of spaces and tabs is this.
        let trimmed = String(line.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
        let asRequest = ControlRequestParser.parseLocated(trimmed, kindOf: { kinds[$0] })
        let asPoint = ControlRequestParser.parseLocated(#"{"op":"set","points":["# + trimmed + "]}", kindOf: { kinds[$0] })
        let agrees = [asRequest, asPoint].contains { result in
            if case .success(.set(let expected)) = result { return identical(fast, expected) }
            return false
        }
        if !agrees { fatalError("the fast path took a handler line as \(fast); the located parser says \(asRequest) / \(asPoint)") }
        // Read once as a handler's output, the line means the same updates.
        guard case .updates(let once) = ControlRequestParser.readHandlerOutputLocated(line, repliesAllowed: false, kindOf: { kinds[$0] }),
              identical(fast, once) else { fatalError("the handler line reader disagrees with the fast path on \(fast)") }
    }
    // A persistent handler's line (a reply, updates or text) never traps, whatever it holds.
    _ = ControlRequestParser.readHandlerOutput(line, repliesAllowed: true, kindOf: { kinds[$0] })
    return 0
}

/// Equal, with floats equal in every bit (`==` takes -0.0 for 0.0).
private func identical(_ a: [PointUpdate], _ b: [PointUpdate]) -> Bool {
    a == b && zip(a, b).allSatisfy { x, y in
        if case .float(let p) = x.value, case .float(let q) = y.value { return p.bitPattern == q.bitPattern }
        return true
    }
}
