import IEC104
import TLS

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

/// One non-blocking connection for `bench`: its own minimal link handling (V(S), V(R), batch
/// acknowledgements after each read, TESTFR con) over a 4 MiB receive buffer, so the receive path
/// costs one recv() per batch and a few loads per frame. With TLS, ciphertext is received into a
/// scratch buffer and decrypted into the receive buffer; what is sent is encrypted first.
final class BenchConnection {
    static let bufferSize = 4 << 20
    let descriptor: Int32
    private let buffer: UnsafeMutablePointer<UInt8>
    private var length = 0
    private(set) var sendSequence: UInt16 = 0
    private(set) var receiveSequence: UInt16 = 0
    private var unacknowledged = 0
    private(set) var sequenceErrors = 0
    private(set) var bytes = 0
    private(set) var supervisoryFramesSent = 0
    private(set) var startConfirmed = false
    private(set) var closed = false
    private(set) var lastReception = 0.0
    let w: Int
    let idleMilliseconds: Int32
    var counters = BenchCounters()
    var histogram: LatencyHistogram?
    /// The TLS session (handshake done), when connected over TLS.
    let tls: TLSSession?
    private var tlsClosed = false

    init(descriptor: Int32, w: Int, idleMilliseconds: Int32, receiveBuffer: Int32, tls: TLSSession? = nil) {
        self.descriptor = descriptor
        self.tls = tls
        self.w = max(1, w)
        self.idleMilliseconds = max(1, idleMilliseconds)
        buffer = benchReceiveBuffer
        var size = receiveBuffer
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        let flags = fcntl(descriptor, F_GETFL, 0)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        lastReception = benchClock()
    }

    deinit { close() }

    func close() {
        guard !closedDescriptor else { return }
        if let tls, !closed {
            tls.shutdown()
            _ = TLSClientIO.sendAll(descriptor, tls.takeCiphertext())
        }
        closedDescriptor = true
        _ = Glibc.close(descriptor)
    }

    private var closedDescriptor = false

    // MARK: Sending

    private func sendAll(_ bytes: UnsafeRawBufferPointer) {
        if let tls {
            do throws(TLSError) { try tls.write(bytes) } catch { closed = true; return }
            if !TLSClientIO.sendAll(descriptor, tls.takeCiphertext()) { closed = true }
            return
        }
        if !TLSClientIO.sendAll(descriptor, bytes) { closed = true }
    }

    func sendUnnumbered(_ control: UInt8) {
        let frame: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0x68, 4, control, 0, 0, 0)
        withUnsafeBytes(of: frame) { sendAll($0) }
    }

    func sendSupervisory() {
        let frame: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0x68, 4, 1, 0, UInt8(truncatingIfNeeded: receiveSequence << 1), UInt8(truncatingIfNeeded: receiveSequence >> 7))
        withUnsafeBytes(of: frame) { sendAll($0) }
        unacknowledged = 0
        supervisoryFramesSent += 1
    }

    func sendInformation(_ asdu: [UInt8]) {
        var frame: [UInt8] = [0x68, UInt8(asdu.count + 4),
                              UInt8(truncatingIfNeeded: sendSequence << 1), UInt8(truncatingIfNeeded: sendSequence >> 7),
                              UInt8(truncatingIfNeeded: receiveSequence << 1), UInt8(truncatingIfNeeded: receiveSequence >> 7)]
        frame += asdu
        frame.withUnsafeBytes { sendAll($0) }
        sendSequence = (sendSequence &+ 1) & 0x7FFF
        unacknowledged = 0
    }

    // MARK: Receiving

    /// Receives until `done` is true (returns true), `deadline` passes or the peer is silent for
    /// `stall` seconds (false), or the connection closes (false, `closed` set).
    func pump(until deadline: Double, stall: Double = 0, done: (BenchConnection) -> Bool) -> Bool {
        var tryRead = true
        while true {
            if done(self) { return true }
            if closed { return false }
            if tryRead {
                let space = Self.bufferSize - length
                let count = tls == nil ? recv(descriptor, buffer + length, space, 0) : receiveTLS(space: space)
                if count > 0 {
                    length += count
                    let now = benchClock()
                    lastReception = now
                    process(now: now)
                    tryRead = count == space
                    if now >= deadline { return done(self) }
                    continue
                }
                if count == 0 { closed = true; return false }
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK { closed = true; return false }
            }
            let now = benchClock()
            if now >= deadline { return false }
            if stall > 0, now - lastReception > stall { return false }
            var timeout = idleMilliseconds
            let left = (deadline - now) * 1000
            if left < Double(timeout) { timeout = Int32(left) + 1 }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, timeout)
            if ready == 0, unacknowledged > 0 { sendSupervisory() }
            tryRead = ready > 0
        }
    }

    /// recv() semantics over TLS: plaintext octets decrypted into the buffer, 0 at the end, -1 with errno.
    private func receiveTLS(space: Int) -> Int {
        guard let tls else { return -1 }
        var total = 0
        while true {
            // Plaintext already decrypted or still buffered in OpenSSL comes first.
            while total < space {
                let result = tls.readPlaintext(into: UnsafeMutableRawBufferPointer(start: buffer + length + total,
                                                                                  count: space - total))
                switch result {
                case .bytes(let count) where count > 0: total += count; continue
                case .closed: tlsClosed = true
                case .failed: tlsClosed = true
                default: break
                }
                break
            }
            // Reading may have produced records to send: a renegotiation's handshake, held plaintext now encrypted.
            if tls.pendingCiphertext > 0, !TLSClientIO.sendAll(descriptor, tls.takeCiphertext()) { tlsClosed = true }
            if total > 0 { return total }
            if tlsClosed { return 0 }
            let count = recv(descriptor, benchCiphertextBuffer, Self.ciphertextSize, 0)
            if count <= 0 { return count }
            tls.feed(UnsafeRawBufferPointer(start: benchCiphertextBuffer, count: count))
        }
    }

    static let ciphertextSize = 1 << 20

    /// Every complete APDU in the buffer; one S-frame at the end of the batch when w or more I-frames came.
    private func process(now: Double) {
        var offset = 0
        let wallNow = wallMilliseconds()
        while length - offset >= 2 {
            let frame = buffer + offset
            guard frame[0] == 0x68 else { closed = true; return }
            let size = Int(frame[1]) + 2
            guard size >= 6 else { closed = true; return }
            guard length - offset >= size else { break }
            if frame[2] & 1 == 0 {
                let sequence = (UInt16(frame[2]) | UInt16(frame[3]) << 8) >> 1
                if sequence != receiveSequence { sequenceErrors += 1 }
                receiveSequence = (sequence &+ 1) & 0x7FFF
                unacknowledged += 1
                information(frame + 6, size - 6, now: now, wallNow: wallNow)
            } else if frame[2] & 3 == 3 {
                if frame[2] == 0x43 { sendUnnumbered(0x83) }
                else if frame[2] == 0x0B { startConfirmed = true }
            }
            offset += size
        }
        bytes += offset
        if offset > 0 {
            length -= offset
            if length > 0 { (buffer).update(from: buffer + offset, count: length) }
        }
        if unacknowledged >= w { sendSupervisory() }
    }

    private func information(_ asdu: UnsafeMutablePointer<UInt8>, _ size: Int, now: Double, wallNow: Int64) {
        guard size >= 6 else { return }
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
nonisolated(unsafe) private let benchReceiveBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: BenchConnection.bufferSize)

/// Where TLS connections receive ciphertext before it is decrypted into `benchReceiveBuffer`.
nonisolated(unsafe) private let benchCiphertextBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: BenchConnection.ciphertextSize)

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
