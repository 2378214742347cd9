import SystemPackage

/// Writes `text` to standard error unbuffered and whole (swift-system retries interrupted and partial writes);
/// gives up quietly when stderr is gone (nothing sensible is left to report it to).
public func writeStandardError(_ text: String) {
    _ = try? FileDescriptor.standardError.writeAll(text.utf8)
}
