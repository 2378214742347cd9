import Foundation
@testable import Config
import TestSupport
import TLS

/// The pinned fingerprints of the shared throw-away certificates, as the config reader parses them.
extension TestCertificates {
    static func fingerprint(_ name: String) -> [UInt8] {
        let lines = (try? String(contentsOfFile: path("fingerprints.txt"), encoding: .utf8)) ?? ""
        for line in lines.split(separator: "\n") where line.hasPrefix(name + " ") {
            return DaemonConfigReader.parseFingerprint(String(line.split(separator: " ")[1])) ?? []
        }
        return []
    }
}

/// Moves ciphertext between two sessions until neither has anything to say; `chunk` splits each transfer.
@discardableResult
func pump(_ a: TLSSession, _ b: TLSSession, chunk: Int = .max, rounds: Int = 50) -> (a: TLSSession.HandshakeResult, b: TLSSession.HandshakeResult) {
    var resultA = a.handshake(), resultB = b.handshake()
    for _ in 0..<rounds {
        let fromA = a.takeCiphertext(), fromB = b.takeCiphertext()
        if fromA.isEmpty && fromB.isEmpty { break }
        for start in stride(from: 0, to: fromA.count, by: min(chunk, max(fromA.count, 1))) {
            b.feed(Array(fromA[start..<min(start + chunk, fromA.count)]))
            if !b.isHandshakeComplete { resultB = b.handshake() }
        }
        for start in stride(from: 0, to: fromB.count, by: min(chunk, max(fromB.count, 1))) {
            a.feed(Array(fromB[start..<min(start + chunk, fromB.count)]))
            if !a.isHandshakeComplete { resultA = a.handshake() }
        }
        if case .failed = resultA { break }
        if case .failed = resultB { break }
    }
    return (resultA, resultB)
}
