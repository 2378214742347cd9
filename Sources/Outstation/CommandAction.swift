public import IEC104

/// A command request a station has checked against its point (known point, a type the point takes, a cause of
/// activation) and hands to the ``CommandLedger``, with what the ledger needs to answer it later.
public struct ReceivedCommand: Sendable {
    public let station: String
    public let listener: String
    public let peer: String
    public let connection: ConnectionID
    /// The request ASDU as received: every confirmation mirrors it.
    public let request: ASDURequest
    public let point: CommandPointDefinition
    public let element: InformationElement
    public let originator: UInt8
    /// The update the feedback point takes if the command succeeds (see ``CommandRequest/suggestedFeedback``).
    public let suggestedFeedback: PointUpdate?
    /// How long a confirmed select stays valid: the station's `select_timeout`.
    public let selectTimeout: Duration

    public init(station: String, listener: String, peer: String, connection: ConnectionID, request: ASDURequest,
                point: CommandPointDefinition, element: InformationElement, originator: UInt8,
                suggestedFeedback: PointUpdate?, selectTimeout: Duration) {
        self.station = station
        self.listener = listener
        self.peer = peer
        self.connection = connection
        self.request = request
        self.point = point
        self.element = element
        self.originator = originator
        self.suggestedFeedback = suggestedFeedback
        self.selectTimeout = selectTimeout
    }
}

/// A confirmation of a command's request ASDU on the connection it came in on: the request mirrored with
/// `cause` (ACTCON, DEACTCON or ACTTERM) and the P/N bit.
public struct CommandConfirmation: Sendable, Equatable {
    public let station: String
    public let connection: ConnectionID
    public let request: ASDURequest
    public let cause: Cause
    public let negative: Bool

    /// The ASDU to send (IEC 60870-5-101 clause 7.2.3: a confirmation repeats the request apart from the cause).
    public var asdu: [UInt8] { request.reply(cause: cause, negative: negative) }
}

/// What the ``CommandLedger`` asks its owner to do, in order.
public enum CommandAction: Sendable {
    /// A station's command was accepted and holds `request.id` from now on (for the log and the station's counters).
    /// It runs when ``execute(_:)`` comes for it: at once if its point is free, else after the commands before it.
    case accepted(CommandRequest)
    /// Hand the command to the command handler now; report its result with ``CommandLedger/finish(_:succeeded:now:)``.
    case execute(CommandRequest)
    /// A deactivation withdrew the command, which the handler is running: stop it. Its result will still come
    /// (the point stays busy until it does) and is not answered.
    case cancel(commandID: UInt64, station: String)
    /// Send this confirmation to the master that asked.
    case confirm(CommandConfirmation)
    /// A negative ACTCON for a command the select-before-operate rules refuse; the reason is for the log.
    case refuse(CommandConfirmation, reason: String)
    /// Where a successful command's return information (COT 11) goes for `station`: inline on `connection`,
    /// between the command's ACTCON and ACTTERM, or — without a connection (its master is gone, or it withdrew the
    /// command) — into the station's event buffer for whichever master comes next.
    case returnInformation(station: String, connection: ConnectionID?)
    /// Something an operator should see in the log.
    case notice(station: String, String)
    /// The handler's result was answered (or found nobody to answer): the command of `station` is over, for the
    /// counters and the duration since its activation.
    case finished(station: String, typeID: UInt8, outcome: CommandOutcome, activatedAt: LinkInstant)
}
