import TLS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why the downloaded file could not be written, with the OS's own words.
struct PartFileError: Error, CustomStringConvertible {
    var description: String
}

/// `FILE.part` beside FILE: written where segments land, cut back when a section comes again, synced and
/// renamed to FILE when the transfer succeeded, removed otherwise. The file is never held in memory.
final class PartFile {
    let path: String
    let partPath: String
    private var descriptor: Int32

    init(path: String) throws(PartFileError) {
        self.path = path
        partPath = path + ".part"
        descriptor = open(partPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if descriptor < 0 { throw Self.error("cannot create", partPath) }
    }

    deinit { discard() }

    func write(_ bytes: [UInt8], at offset: UInt64) throws(PartFileError) {
        var done = 0
        while done < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                pwrite(descriptor, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw Self.error("cannot write", partPath)
            }
            done += written
        }
    }

    func truncate(length: UInt64) throws(PartFileError) {
        if ftruncate(descriptor, off_t(length)) != 0 { throw Self.error("cannot truncate", partPath) }
    }

    /// Syncs FILE.part, reads it back for its SHA-256 and renames it to FILE; returns the digest in hex.
    func commit() throws(PartFileError) -> String {
        if fsync(descriptor) != 0 { throw Self.error("cannot sync", partPath) }
        let digest = try sha256()
        if rename(partPath, path) != 0 { throw Self.error("cannot rename \(partPath) to", path) }
        _ = close(descriptor)
        descriptor = -1
        syncFolder()
        return digest
    }

    /// Closes and removes FILE.part (nothing once committed).
    func discard() {
        guard descriptor >= 0 else { return }
        _ = close(descriptor)
        descriptor = -1
        _ = unlink(partPath)
    }

    private func sha256() throws(PartFileError) -> String {
        let reader = open(partPath, O_RDONLY | O_CLOEXEC)
        if reader < 0 { throw Self.error("cannot read", partPath) }
        defer { _ = close(reader) }
        let digest = SHA256Digest()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.error("cannot read", partPath)
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
        guard let value = digest.finish() else { throw PartFileError(description: "SHA-256 is not available (OpenSSL)") }
        return SHA256Digest.hex(value)
    }

    /// The rename reaches the disk only with its folder.
    private func syncFolder() {
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let handle = open(folder.isEmpty ? "/" : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard handle >= 0 else { return }
        _ = fsync(handle)
        _ = close(handle)
    }

    private static func error(_ what: String, _ path: String) -> PartFileError {
        PartFileError(description: "\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
