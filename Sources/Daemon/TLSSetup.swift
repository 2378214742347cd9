public import Config
public import Foundation
public import Logging
public import Server
public import TLS

/// Builds the listeners' TLS contexts from the configuration: certificates, keys, CA bundles and CRLs are read
/// here, at start and at every reload, so a broken file fails the start or the reload (and a reload keeps the
/// contexts in force).
public enum TLSSetup {
    /// Certificates that expire within this many days are warned about at start and at every reload.
    public static let expiryWarningDays: Int64 = 30

    public struct Failure: Error, CustomStringConvertible {
        public let listener: String
        public let underlying: TLSError
        public var description: String { "listener '\(listener)': \(underlying)" }
    }

    /// The server's view of every listener, with TLS contexts built; throws on the first unusable TLS file.
    public static func listenerSettings(_ configuration: DaemonConfiguration) throws(Failure) -> [ListenerSettings] {
        var result: [ListenerSettings] = []
        for listener in configuration.listeners {
            // The one place a listener's configuration becomes the server's settings.
            var settings = ListenerSettings(name: listener.name, host: listener.host, port: listener.port,
                                            errorPolicy: listener.errorPolicy, maxConnections: listener.maxConnections,
                                            maxConnectionsPerAddress: listener.maxConnectionsPerAddress, tls: nil)
            if let tls = listener.tls {
                let context: TLSContext
                do throws(TLSError) {
                    context = try TLSContext(role: .server, settings: tls)
                } catch {
                    throw Failure(listener: listener.name, underlying: error)
                }
                let requirements = configuration.certificateRequirements
                settings.tls = ListenerTLS(context: context) { station, peer in
                    guard let requirement = requirements[station] else { return nil }
                    return requirement.refusal(certificateSubject: peer.subject,
                                               altNames: peer.certificate?.subjectAltNames ?? [])
                }
            }
            result.append(settings)
        }
        return result
    }

    /// Logs key-permission warnings and certificates that have expired or expire within 30 days.
    public static func reportCertificates(_ listeners: [ListenerSettings], logger: Logger, now: Date = Date()) {
        for listener in listeners {
            for warning in listener.tls?.context.warnings ?? [] {
                logger.warning("\(warning)", metadata: ["listener": "\(listener.name)"])
            }
        }
        reportExpiry(listeners, logger: logger, now: now)
    }

    /// Logs listener certificates that have expired (an error) or expire within 30 days (a warning): at start, at
    /// every reload, and once a day in between, so a daemon that runs for months still warns in time.
    public static func reportExpiry(_ listeners: [ListenerSettings], logger: Logger, now: Date = Date()) {
        let seconds = Int64(now.timeIntervalSince1970)
        for listener in listeners {
            guard let tls = listener.tls, let certificate = tls.context.certificate else { continue }
            let metadata: Logger.Metadata = ["listener": "\(listener.name)", "subject": "\(certificate.subject)",
                                             "not_after": "\(expiryText(certificate))",
                                             "certificate": "\(tls.context.settings.certificatePath)"]
            let days = certificate.daysLeft(now: seconds)
            if certificate.notAfter <= seconds {
                logger.error("the listener's TLS certificate has expired; masters will refuse it", metadata: metadata)
            } else if days < expiryWarningDays {
                logger.warning("the listener's TLS certificate expires in \(days) day(s)", metadata: metadata)
            }
        }
    }

    /// How often a running daemon looks at its certificates' expiry again.
    public static let expiryCheckInterval: Duration = .seconds(86_400)

    /// "2027-01-31T12:00:00Z".
    public static func expiryText(_ certificate: CertificateInfo) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(certificate.notAfter)))
    }
}
