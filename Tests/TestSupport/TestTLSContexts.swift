public import TLS

/// TLS contexts made from the shared throw-away certificates: a server with CA and CRL, clients by certificate name;
/// `configure` adjusts the settings before the context is built.
extension TestCertificates {
    public static func server(_ configure: (inout TLSSettings) -> Void = { _ in }) throws -> TLSContext {
        var settings = TLSSettings(certificatePath: path("server.pem"), privateKeyPath: path("server.key"),
                                   caPath: path("ca.pem"), crlPath: path("crl.pem"))
        configure(&settings)
        return try TLSContext(role: .server, settings: settings)
    }

    public static func client(_ name: String = "client", ca: String? = "ca.pem",
                              _ configure: (inout TLSSettings) -> Void = { _ in }) throws -> TLSContext {
        var settings = TLSSettings(certificatePath: name.isEmpty ? "" : path(name + ".pem"),
                                   privateKeyPath: name.isEmpty ? "" : path(name + ".key"), caPath: ca.map(path))
        configure(&settings)
        return try TLSContext(role: .client, settings: settings)
    }
}
