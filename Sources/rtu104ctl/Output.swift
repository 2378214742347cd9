#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one line to standard error, prefixed with the tool's name, as every subcommand reports failures.
func reportError(_ message: String) {
    writeAll("rtu104ctl: \(message)\n", to: STDERR_FILENO)
}

/// Writes unbuffered, so that output reaches a pipe as soon as a frame is decoded.
func writeStandardOutput(_ text: String) {
    writeAll(text, to: STDOUT_FILENO)
}

private func writeAll(_ text: String, to descriptor: Int32) {
    guard !text.isEmpty else { return }
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return  // e.g. EPIPE when the reader went away; nothing sensible left to do
            }
            offset += written
        }
    }
}
