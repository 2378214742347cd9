/// The release version of rtu104d and rtu104ctl: the one place it is written down.
public let rtu104Version = "0.9.0"

/// `0.9.0 (commit abcdef1)` when built from a git checkout, `0.9.0` otherwise (e.g. from a source tarball).
/// The commit comes from `GitCommitPlugin`, which reads `.git` at build time.
public var rtu104VersionText: String {
    guard let commit = gitCommit else { return rtu104Version }
    return "\(rtu104Version) (commit \(commit))"
}

/// The git commit the build came from, if it was built from a checkout (for the metrics' build_info).
public var rtu104Commit: String? { gitCommit }
