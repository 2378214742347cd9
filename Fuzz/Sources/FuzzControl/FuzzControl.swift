import Config
import IEC104
import Outstation

private let kinds: [PointAddress: PointKind] = Dictionary(uniqueKeysWithValues: PointKind.allCases.enumerated().map {
    (PointAddress(commonAddress: 47, objectAddress: UInt32($0.offset + 1)), $0.element)
})

/// Parses the input as one control socket request line. Whatever it says, the parser answers with
/// a request or a reason; an accepted `set` only names known points with values of their kind.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControl(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let line = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    switch ControlRequestParser.parse(line, kindOf: { kinds[$0] }) {
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
    return 0
}
