public import IEC104

/// Identifies one transport connection for the stations; assigned by the server shell.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "#\(rawValue)" }
}

/// What a station asks its owner to do; every entry point of ``Station`` returns these, in order.
public enum StationAction: Sendable {
    /// Write these octets to the connection: everything the connection has to send from this step (whole APDUs,
    /// a k window of I-frames at most), so that the owner writes and flushes once per step.
    case send(ConnectionID, [UInt8])
    /// Arm the station's timer for `deadline`, replacing the one armed before, and call ``Station/timeout(now:)``
    /// when it fires. Asked only when the station's next deadline moves earlier than the armed one; a timer that
    /// finds nothing due is harmless.
    case armTimer(LinkInstant)
    /// Close the connection; the station has already forgotten it.
    case close(ConnectionID, reason: CloseReason)
    /// A master's command was accepted (for the log); it runs when its ``execute(_:)`` comes, at once if its
    /// point is free.
    case commandAccepted(CommandRequest)
    /// Run the command through the command handler now and report back with `Outstation.complete`, whose
    /// actions may start the next command on the point.
    case execute(CommandRequest)
    /// A deactivation (COT 8) withdrew a command handed out with `execute`: stop it (cancel the task that runs it).
    /// The station has already confirmed the deactivation; the command's result is still reported, unanswered.
    case cancel(commandID: UInt64)
    /// Something an operator should see in the log.
    case notice(String)
    /// A master's request that was refused or malformed.
    case warning(String)
    /// A request answered with a negative confirmation: the owner logs it, rate-limited per master,
    /// with the request's type, common address and cause as log fields.
    case refused(RefusedRequest)
    /// A clock synchronisation command arrived; master time minus system time.
    case clockSynchronized(offsetMilliseconds: Int64)
    /// An update a successful command's handler returned for its feedback was not applied; the reason is for the log.
    case feedbackRefused(CommandRequest, reason: String)
    /// An interrogation or a command finished; how long it took, for the owner's histograms.
    case measured(StationMeasurement)
    /// Read a section of a file and report with `Outstation.fileSectionRead`.
    case readFileSection(FileSectionRead)
    /// A master asked to delete a file its area lets masters delete: unlink it and report with
    /// `Outstation.fileDeleted`.
    case deleteFile(FileDeletion)
}

/// The file a master asked to delete, with the transfer that selected it.
public struct FileDeletion: Sendable, Hashable {
    public let station: String
    public let transfer: UInt64
    public let file: CatalogFile
}

/// Why a station gives up a connection; each is logged its own way.
public enum CloseReason: Sendable, Equatable, CustomStringConvertible {
    /// The session ended it: a protocol error, a timer that ran out, or another connection of the redundancy
    /// group that started data transfer. A master can cause these at will.
    case ended(String)
    /// A newer connection took its place in the redundancy group.
    case replaced(byPeer: String)
    /// A reload removed or changed the station, or its filter no longer admits the master.
    case reconfigured(String)

    public var description: String {
        switch self {
        case .ended(let reason), .reconfigured(let reason): reason
        case .replaced(let peer): "replaced by a new connection from \(peer)"
        }
    }
}

/// A request a station answered negatively (COT 44–47, or a negative ACTCON/DEACTCON).
public struct RefusedRequest: Sendable, Equatable {
    /// The cause of the negative confirmation that was sent.
    public let cause: Cause
    /// The request's type, if it is one the standard defines.
    public let typeID: TypeID?
    public let rawTypeID: UInt8?
    public let commonAddress: UInt16?
    /// Why, in words, without the peer (the owner adds it as a field).
    public let reason: String

    public init(cause: Cause, typeID: TypeID?, rawTypeID: UInt8?, commonAddress: UInt16?, reason: String) {
        self.cause = cause
        self.typeID = typeID
        self.rawTypeID = rawTypeID
        self.commonAddress = commonAddress
        self.reason = reason
    }
}

/// A command accepted by a station and handed to a command handler.
public struct CommandRequest: Sendable {
    /// Unique in the daemon (see ``CommandLedger``): the handler, the log and the outstation know the command by it.
    public let id: UInt64
    public let station: String
    /// The listener the command came in on (empty for the control socket's `exec`).
    public let listener: String
    public let peer: String
    public let point: CommandPointDefinition
    public let element: InformationElement
    public let isSelect: Bool
    public let originator: UInt8
    /// The command's own time tag (types 58–64).
    public let time: CP56Time2a?
    /// The update the feedback point takes if the command succeeds, worked out from the command value.
    public let suggestedFeedback: PointUpdate?

    /// Public so that the control socket's `exec` can hand a command point's handler a request built as a station builds it.
    public init(id: UInt64, station: String, listener: String = "", peer: String, point: CommandPointDefinition,
                element: InformationElement, isSelect: Bool, originator: UInt8, time: CP56Time2a?, suggestedFeedback: PointUpdate?) {
        self.id = id
        self.station = station
        self.listener = listener
        self.peer = peer
        self.point = point
        self.element = element
        self.isSelect = isSelect
        self.originator = originator
        self.time = time
        self.suggestedFeedback = suggestedFeedback
    }
}

/// How a command handler finished.
public enum CommandResult: Sendable {
    /// Positive confirmation; the updates go into the process image as return information (COT 11).
    case success(updates: [PointUpdate])
    /// Negative confirmation; the reason is for the log.
    case failure(reason: String)
}

/// Runs commands for the outstation; implementations must not block the caller.
public protocol CommandHandler: Sendable {
    /// A deactivation cancels the task that runs this: it should then stop the command and return soon, with
    /// any result.
    func execute(_ request: CommandRequest) async -> CommandResult
}

/// The built-in handler: accepts every command and moves its feedback point to the commanded state.
public struct FeedbackCommandHandler: CommandHandler {
    public init() {}

    public func execute(_ request: CommandRequest) async -> CommandResult {
        guard !request.isSelect, let feedback = request.suggestedFeedback else { return .success(updates: []) }
        return .success(updates: [feedback])
    }
}
