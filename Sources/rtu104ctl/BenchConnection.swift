import IEC104
import Master

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What `bench` counts while receiving: headers, causes and object counts only; CP56Time2a tags only
/// for latency. Nothing here allocates per frame.
struct BenchCounters {
    // interrogation
    var actconAt = 0.0, acttermAt = 0.0, lastObjectAt = 0.0
    var actconCount = 0, acttermCount = 0
    var actconNegative = false
    var interrogationObjects = 0, interrogationASDUs = 0
    var requestTypeID: UInt8 = 100
    // events
    var counting = false
    var eventObjects = 0, eventASDUs = 0, otherCause = 0
    var latencySamples = 0, latencyInvalid = 0
}

/// A latency histogram in 1 ms bins from −1000 ms, like fastmaster's.
struct LatencyHistogram {
    static let minimum = -1000
    static let bins = 200_000
    var counts = [UInt32](repeating: 0, count: bins)
    var samples = 0

    mutating func add(milliseconds: Int64) {
        let bin = Int(max(0, min(Int64(Self.bins - 1), milliseconds - Int64(Self.minimum))))
        counts[bin] &+= 1
        samples += 1
    }

    func percentile(_ p: Double) -> Double? {
        guard samples > 0 else { return nil }
        let target = Int(p / 100 * Double(samples - 1) + 0.5)
        var accumulated = 0
        for (bin, count) in counts.enumerated() {
            accumulated += Int(count)
            if accumulated > target { return Double(bin + Self.minimum) }
        }
        return nil
    }

    var maximum: Double? {
        guard let bin = counts.lastIndex(where: { $0 > 0 }) else { return nil }
        return Double(bin + Self.minimum)
    }
}

/// One connection of `bench`: a ``MasterSession`` receiving in batches into a 4 MiB buffer (one recv()
/// per batch, the link's acknowledgements written once per batch), and what the bench counts of it.
final class BenchConnection {
    static let bufferSize = 4 << 20
    let session: MasterSession
    let idle: Duration
    var counters = BenchCounters()
    var histogram: LatencyHistogram?
    /// Wall clock of the batch being counted: read once per batch, not per ASDU.
    private var batch = LinkInstant(nanoseconds: 0)
    private var batchWallMilliseconds: Int64 = 0

    init(session: MasterSession, idleMilliseconds: Int32) {
        self.session = session
        idle = .milliseconds(Int64(max(1, idleMilliseconds)))
    }

    var closed: Bool { session.closed }
    var bytes: Int { session.core.octetsReceived }
    var supervisoryFramesSent: Int { session.core.supervisoryFramesSent }
    /// The link closes on an out-of-sequence I-frame, so a run sees at most one.
    var sequenceErrors: Int {
        if case .link(.sequenceError) = session.failure { return 1 }
        return 0
    }

    func close() { session.close() }

    /// Sends an I-frame; a failure shows as ``closed``.
    func sendInformation(_ asdu: [UInt8]) {
        do { try session.send(asdu) } catch {}
    }

    /// Receives until `done` is true (returns true), `deadline` passes or the peer is silent for
    /// `stall` seconds (false), or the connection closes (false, `closed` set).
    func pump(until deadline: Double, stall: Double = 0, done: (BenchConnection) -> Bool) -> Bool {
        session.receiveBatched(until: LinkInstant(nanoseconds: UInt64(max(0, deadline) * 1e9)),
                               stall: stall > 0 ? .nanoseconds(Int64(stall * 1e9)) : nil,
                               idleAcknowledgement: idle,
                               visit: { asdu, now in information(asdu, now: now) },
                               done: { done(self) })
    }

    private func information(_ octets: UnsafeRawBufferPointer, now instant: LinkInstant) {
        if instant != batch {
            batch = instant
            batchWallMilliseconds = wallMilliseconds()
        }
        let size = octets.count
        guard size >= 6, let base = octets.baseAddress else { return }
        let asdu = base.assumingMemoryBound(to: UInt8.self)
        let now = Double(instant.nanoseconds) * 1e-9, wallNow = batchWallMilliseconds
        let typeID = asdu[0], count = Int(asdu[1] & 0x7F), sequence = asdu[1] & 0x80 != 0
        let causeOctet = asdu[2], cause = causeOctet & 0x3F
        if typeID == counters.requestTypeID {
            if cause == 7 {
                counters.actconCount += 1
                if counters.actconAt == 0 { counters.actconAt = now }
                if causeOctet & 0x40 != 0 { counters.actconNegative = true }
            } else if cause == 10 {
                counters.acttermCount += 1
                counters.acttermAt = now
            }
            return
        }
        if (20...41).contains(cause) {
            counters.interrogationObjects += count
            counters.interrogationASDUs += 1
            counters.lastObjectAt = now
            return
        }
        guard counters.counting else { return }
        guard cause == 3 else { counters.otherCause += 1; return }
        counters.eventObjects += count
        counters.eventASDUs += 1
        // Element size and the offset of the CP56Time2a inside it, for the time-tagged types.
        let elementSize: Int, timeOffset: Int
        switch typeID {
        case 30, 31: (elementSize, timeOffset) = (8, 1)
        case 32: (elementSize, timeOffset) = (9, 2)
        case 33, 36, 37: (elementSize, timeOffset) = (12, 5)
        case 34, 35: (elementSize, timeOffset) = (10, 3)
        default: return
        }
        guard histogram != nil else { return }
        var position = 6
        for index in 0..<count {
            if !sequence || index == 0 { position += 3 }
            guard position + elementSize <= size else { break }
            if let tagged = cp56Milliseconds(asdu + position + timeOffset) {
                histogram?.add(milliseconds: wallNow - tagged)
                counters.latencySamples += 1
            } else {
                counters.latencyInvalid += 1
            }
            position += elementSize
        }
    }
}

/// One receive buffer for every bench connection (they run one after another), so that a new
/// connection does not page in 4 MiB again.
let benchReceiveBuffer = ReceiveBuffer(capacity: BenchConnection.bufferSize)

/// Monotonic seconds.
func benchClock() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
}

/// CPU seconds of this process.
func processCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
}

/// A CP56Time2a read in place as UTC milliseconds since 1970; nil when a field is out of range.
func cp56Milliseconds(_ octets: UnsafePointer<UInt8>) -> Int64? {
    let milliseconds = Int64(octets[0]) | Int64(octets[1]) << 8
    let minute = Int64(octets[2] & 0x3F), hour = Int64(octets[3] & 0x1F), day = Int64(octets[4] & 0x1F)
    let month = Int64(octets[5] & 0x0F), year = 2000 + Int64(octets[6] & 0x7F)
    guard milliseconds <= 59_999, minute <= 59, hour <= 23, day >= 1, (1...12).contains(month) else { return nil }
    // Days from civil (H. Hinnant).
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    let days = era * 146_097 + dayOfEra - 719_468
    return ((days * 86_400 + hour * 3600 + minute * 60) * 1000) + milliseconds
}
