/// Splits a byte stream into lines of at most `limit` bytes; longer lines are reported, not kept.
struct LineSplitter {
    enum Event: Equatable {
        case line(String)
        /// A line longer than the limit was skipped; its length so far.
        case overlong(Int)
    }

    let limit: Int
    private var pending: [UInt8] = []
    private var skipped = 0

    init(limit: Int) { self.limit = limit }

    mutating func feed(_ bytes: some Sequence<UInt8>, _ emit: (Event) -> Void) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if skipped > 0 {
                    emit(.overlong(skipped))
                    skipped = 0
                } else {
                    if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
                    emit(.line(String(decoding: pending, as: UTF8.self)))
                }
                pending.removeAll(keepingCapacity: true)
            } else if skipped > 0 {
                skipped += 1
            } else if pending.count >= limit {
                skipped = pending.count + 1
                pending.removeAll()
            } else {
                pending.append(byte)
            }
        }
    }

    /// The unterminated last line, if any.
    mutating func finish(_ emit: (Event) -> Void) {
        if skipped > 0 { emit(.overlong(skipped)) } else if !pending.isEmpty { emit(.line(String(decoding: pending, as: UTF8.self))) }
        pending.removeAll()
        skipped = 0
    }
}
