import IEC104
@testable import Master

/// A manual clock: the core never reads one, so tests move time by hand.
struct ManualClock {
    private(set) var now = LinkInstant(nanoseconds: 1_000_000_000)
    mutating func advance(_ duration: Duration) { now = now + duration }
}

enum Frames {
    static func unnumbered(_ function: UFunction) -> [UInt8] { APCI.unnumbered(function).encodedFrame }
    static func supervisory(_ receive: UInt16) -> [UInt8] { APCI.supervisory(receive: receive).encodedFrame }
    static func information(send: UInt16, receive: UInt16 = 0, _ asdu: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = []
        APCI.information(send: send, receive: receive).encodeHeader(asduLength: asdu.count, into: &frame)
        return frame + asdu
    }
}

/// Byte-exact ASDUs around a station interrogation of CA 47 (C_IC_NA_1, QOI 20).
enum Interrogation47 {
    static func interrogation(cause: UInt8, ca: UInt16 = 47) -> [UInt8] {
        [100, 1, cause, 0, UInt8(ca & 0xFF), UInt8(ca >> 8), 0, 0, 0, 20]
    }
    static let request = interrogation(cause: 6)
    static let broadcastRequest = interrogation(cause: 6, ca: 0xFFFF)
    static let actcon = interrogation(cause: 7)
    static let negativeActcon = interrogation(cause: 7 | 0x40)
    static let actterm = interrogation(cause: 10)
    /// M_SP_NA_1, COT 20 (interrogated by station), IOA `ioa`, ON.
    static func point(_ ioa: UInt8, ca: UInt16 = 47) -> [UInt8] { [1, 1, 20, 0, UInt8(ca & 0xFF), UInt8(ca >> 8), ioa, 0, 0, 1] }
}

/// A core in data transfer (STARTDT act sent and confirmed, output cleared).
func startedCore(_ parameters: APCIParameters = .standard, clock: ManualClock) throws -> MasterStateMachine {
    var core = MasterStateMachine(parameters: parameters, now: clock.now)
    core.startDataTransfer(now: clock.now)
    core.clearOutput()
    _ = try core.receive(Frames.unnumbered(.startDTConfirmation), now: clock.now)
    core.clearOutput()
    return core
}
