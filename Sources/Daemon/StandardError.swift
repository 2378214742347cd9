#if canImport(Glibc)
import Glibc
#endif

/// Writes `text` to standard error unbuffered and whole, retrying interrupted writes; gives up
/// quietly when stderr is gone (nothing sensible is left to report it to).
public func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}
