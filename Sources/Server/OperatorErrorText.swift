#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// Errors in log lines as the OS says them: NIO's `IOError` prints the failing call and the errno
/// (`read(descriptor:pointer:size:): Connection reset by peer (errno: 104)`), which means nothing to an
/// operator; `strerror` text with a lower-case first letter reads as part of the sentence.
public enum OperatorErrorText {
    public static func text(for error: any Error) -> String {
        if let io = error as? IOError { return text(errno: io.errnoCode) }
        if let channel = error as? ChannelError {
            switch channel {
            case .ioOnClosedChannel, .alreadyClosed, .outputClosed: return "connection already closed"
            case .eof: return "connection closed by peer"
            default: break
            }
        }
        return "\(error)"
    }

    /// `strerror(errno)` with its first letter lower-cased: `connection reset by peer`.
    public static func text(errno code: Int32) -> String {
        guard let message = strerror(code) else { return "error \(code)" }
        let text = String(cString: message)
        guard let first = text.first else { return "error \(code)" }
        return first.lowercased() + text.dropFirst()
    }
}
