#if canImport(Glibc)
import Glibc
#endif
import Outstation

/// The blocking file-system calls of file transfer: a directory scan, a section read, a deletion. They run on the
/// server's file thread (``FileTransferShell``), never on the event loop: a slow or hung disk delays a transfer,
/// not the masters' links. Plain POSIX calls because no package on the mirror does `pread` with `fstat` checks.
enum FileSystemAccess {
    /// The files of `area` it lists: regular files (symbolic links followed) whose name does not start with a dot,
    /// matches one of its patterns and whose size is at most its maximum.
    static func scan(_ area: FileArea) -> Result<DirectoryScan, ScanFailure> {
        guard let directory = opendir(area.directory) else {
            return .failure(ScanFailure(reason: OperatorErrorText.text(errno: errno)))
        }
        defer { closedir(directory) }
        var files: [ScannedFile] = []
        var oversized: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard !name.hasPrefix("."), area.patterns.contains(where: { fnmatch($0, name, 0) == 0 }) else { continue }
            var info = stat()
            guard stat(area.directory + "/" + name, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            let identity = Self.identity(info)
            guard identity.size <= area.maximumFileSize else {
                oversized.append(name)
                continue
            }
            files.append(ScannedFile(name: name, identity: identity))
        }
        return .success(DirectoryScan(files: files, tooLarge: oversized))
    }

    struct DirectoryScan: Sendable {
        let files: [ScannedFile]
        /// Names that match but exceed `max_file_size`.
        let tooLarge: [String]
    }

    struct ScanFailure: Error {
        let reason: String
    }

    /// Reads one section, checking before and after that the file is still the one selected.
    static func read(_ request: FileSectionRead) -> FileReadResult {
        let descriptor = open(request.file.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            return errno == ENOENT ? .changed("it was removed") : .failed(OperatorErrorText.text(errno: errno))
        }
        defer { close(descriptor) }
        if let difference = difference(descriptor, request.file.identity) { return .changed(difference) }
        var octets = [UInt8](repeating: 0, count: request.length)
        var done = 0
        while done < request.length {
            let count = octets.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + done, request.length - done, off_t(request.offset + done))
            }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return .failed(OperatorErrorText.text(errno: errno)) }
            guard count > 0 else { return .changed("it is shorter than when it was selected") }
            done += count
        }
        if let difference = difference(descriptor, request.file.identity) { return .changed(difference) }
        return .data(octets)
    }

    /// Removes the file if it is still the one the master selected; nil when done, else why not.
    static func delete(_ file: CatalogFile) -> String? {
        var info = stat()
        guard stat(file.path, &info) == 0 else { return OperatorErrorText.text(errno: errno) }
        guard identity(info) == file.identity else { return "it changed since it was selected" }
        guard unlink(file.path) == 0 else { return OperatorErrorText.text(errno: errno) }
        return nil
    }

    private static func difference(_ descriptor: Int32, _ expected: FileIdentity) -> String? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return OperatorErrorText.text(errno: errno) }
        let found = identity(info)
        if found.device != expected.device || found.inode != expected.inode { return "it was replaced by another file" }
        if found.size != expected.size { return "its size went from \(expected.size) to \(found.size) octets" }
        if found.modifiedNanoseconds != expected.modifiedNanoseconds { return "it was modified" }
        return nil
    }

    private static func identity(_ info: stat) -> FileIdentity {
        FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int(info.st_size),
                     modifiedNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
}
