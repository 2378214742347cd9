public import IEC104

/// Why a controlling station could not talk to the station, in words for the operator.
public enum MasterError: Error, CustomStringConvertible {
    case usage(String)
    case resolve(Endpoint, String)
    case refused(Endpoint)
    case connectTimeout(Endpoint, Duration)
    case connect(Endpoint, String)
    case bind(Endpoint, String)
    case noStartConfirmation(Duration)
    case closedByPeer
    /// Closed before a single octet of IEC 104 came back.
    case closedBeforeAnswer
    case link(LinkError)
    case frame(FrameError)
    case io(String)
    /// TLS set-up or handshake failed, or the station ended TLS.
    case tls(String)
    case tlsTimeout(Duration)

    public var description: String {
        switch self {
        case .usage(let message): message
        case .resolve(let endpoint, let reason): "cannot resolve \(endpoint.host): \(reason)"
        case .refused(let endpoint): "connection refused by \(endpoint) (is the station running and listening on that port?)"
        case .connectTimeout(let endpoint, let t0):
            "no connection to \(endpoint) within t0 = \(t0.seconds2) s (host down or a firewall dropping packets?)"
        case .connect(let endpoint, let reason): "cannot connect to \(endpoint): \(reason)"
        case .bind(let endpoint, let reason): "cannot bind the source address \(endpoint): \(reason)"
        case .noStartConfirmation(let t1):
            "no STARTDT con within t1 = \(t1.seconds2) s (the station may accept only one master, or none from this address)"
        case .closedByPeer: "the station closed the connection"
        case .closedBeforeAnswer:
            "the station closed the connection before answering (a TLS port? then connect with --tls --tls-ca …; "
                + "or the station does not accept this master)"
        case .link(let error): "link layer: \(error); connection closed"
        case .frame(let error): "invalid frame from the station: \(error); connection closed"
        case .io(let message): message
        case .tls(let message): message
        case .tlsTimeout(let timeout):
            "no TLS handshake within --timeout = \(timeout.seconds2) s (is TLS on at that port?)"
        }
    }
}

/// A host and port of a station (or of a local source address).
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension Duration {
    public var secondsDouble: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    public var seconds2: String { secondsDouble.formatted2 }
}

extension Double {
    /// Two decimals, e.g. `0.42`.
    public var formatted2: String {
        let hundredths = (self * 100).rounded()
        let whole = Int(hundredths / 100)
        let fraction = Int(abs(hundredths).truncatingRemainder(dividingBy: 100))
        let sign = self < 0 && whole == 0 && fraction != 0 ? "-" : ""
        return "\(sign)\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
