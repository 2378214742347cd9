/// A first-in first-out queue over a growable ring, without per-element allocation.
struct RingBuffer<Element> {
    private var storage: [Element?]
    private var head = 0
    private(set) var count = 0

    init(initialCapacity: Int = 16) {
        storage = Array(repeating: nil, count: max(initialCapacity, 1))
    }

    var isEmpty: Bool { count == 0 }
    var first: Element? { count > 0 ? storage[head] : nil }

    mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head + count) % storage.count] = element
        count += 1
    }

    /// Puts `elements` in front, keeping their order.
    mutating func prepend(contentsOf elements: [Element]) {
        for element in elements.reversed() {
            if count == storage.count { grow() }
            head = (head - 1 + storage.count) % storage.count
            storage[head] = element
            count += 1
        }
    }

    /// Runs `body` on the first element in place (no copy of it leaves the buffer); nil when empty.
    mutating func updateFirst<Result>(_ body: (inout Element) -> Result) -> Result? {
        guard count > 0 else { return nil }
        return body(&storage[head]!)
    }

    @discardableResult
    mutating func removeFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return element
    }

    @discardableResult
    mutating func removeLast() -> Element? {
        guard count > 0 else { return nil }
        let slot = (head + count - 1) % storage.count
        let element = storage[slot]
        storage[slot] = nil
        count -= 1
        return element
    }

    mutating func removeAll() {
        while removeFirst() != nil {}
        head = 0
    }

    private mutating func grow() {
        var grown: [Element?] = Array(repeating: nil, count: storage.count * 2)
        for index in 0..<count { grown[index] = storage[(head + index) % storage.count] }
        storage = grown
        head = 0
    }
}

extension RingBuffer: Sendable where Element: Sendable {}
