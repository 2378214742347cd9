import IEC104

/// Drives the link state machine of either role with operations read from the input: received
/// I/S/U frames with arbitrary sequence numbers, ASDUs to send, time passing, STARTDT/STOPDT.
/// Traps if an invariant breaks: the k window, whole frames in the output, the unacknowledged list.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLink(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard size >= 2 else { return 0 }
    let role: LinkStateMachine.Role = input[0] & 1 == 0 ? .controlledStation : .controllingStation
    let k = Int(input[1] % 16) + 1
    guard let parameters = try? APCIParameters(k: k, w: max(1, k * 2 / 3), t1: .seconds(15), t2: .seconds(10),
                                               t3: .seconds(20)) else { return 0 }
    var now = LinkInstant(nanoseconds: 1_000_000_000)
    var link = LinkStateMachine(role: role, parameters: parameters, now: now)
    var position = 2

    func next() -> UInt8? {
        guard position < size else { return nil }
        defer { position += 1 }
        return input[position]
    }
    func sequence() -> UInt16? {
        guard let low = next(), let high = next() else { return nil }
        return (UInt16(high) << 8 | UInt16(low)) & 0x7FFF
    }

    while let operation = next() {
        var closed = false
        switch operation % 8 {
        case 0:
            guard let send = sequence(), let receive = sequence() else { break }
            if case .close = link.receive(.information(send: send, receive: receive), now: now) { closed = true }
        case 1:
            guard let receive = sequence() else { break }
            if case .close = link.receive(.supervisory(receive: receive), now: now) { closed = true }
        case 2:
            guard let raw = next() else { break }
            let function = UFunction.allCases[Int(raw) % UFunction.allCases.count]
            if case .close = link.receive(.unnumbered(function), now: now) { closed = true }
        case 3:
            guard let length = next() else { break }
            let asdu = [UInt8](repeating: 0x2A, count: Int(length) % ASDU.maximumLength + 1)
            let couldSend = link.canSend
            let sent = link.send(asdu: asdu, now: now)
            if sent != couldSend { fatalError("send() disagreed with canSend") }
        case 4:
            guard let step = next() else { break }
            now = now + .milliseconds(Int64(step) * 200)
            if link.handleTimeout(now: now) != nil { closed = true }
        case 5:
            link.startDataTransfer(now: now)
        case 6:
            link.stopDataTransfer(now: now)
        default:
            checkOutput(&link)
        }
        if link.unacknowledgedCount > parameters.k { fatalError("more than k unacknowledged I-frames") }
        if link.sendWindow < 0 || link.sendWindow > parameters.k { fatalError("send window outside 0...k") }
        if link.unacknowledgedASDUs.count != link.unacknowledgedCount { fatalError("unacknowledged list out of step") }
        if let deadline = link.nextDeadline, deadline < LinkInstant(nanoseconds: 1_000_000_000) {
            fatalError("deadline before the start")
        }
        if closed { break }
    }
    checkOutput(&link)
    return 0
}

/// Everything the link wrote must be whole, valid APDUs.
private func checkOutput(_ link: inout LinkStateMachine) {
    var framer = StreamFramer()
    framer.append(link.output)
    do {
        while try framer.next() != nil {}
    } catch {
        fatalError("the link wrote an invalid frame: \(error)")
    }
    if framer.bufferedByteCount != 0 { fatalError("the link wrote a partial frame") }
    link.clearOutput()
}
