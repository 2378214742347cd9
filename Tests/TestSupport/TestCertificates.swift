import Foundation

/// Throw-away certificates from scripts/make-certs (CA, server, clients, an expiring and an expired one, a CRL,
/// fingerprints.txt), made once per test process in a folder of its own.
public enum TestCertificates {
    public static let directory: String = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("rtu104d-test-certificates-\(getpid())").path
        let process = Process()
        process.executableURL = repository.appendingPathComponent("scripts/make-certs")
        process.arguments = [directory]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        process.waitUntilExit()
        return directory
    }()

    public static func path(_ name: String) -> String { directory + "/" + name }
}
