import Master

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
    // A failure (EPIPE when the reader went away) leaves nothing sensible to do.
    _ = text.withUTF8 { SocketIO.writeAll(descriptor, UnsafeRawBufferPointer($0), isSocket: false) }
}
