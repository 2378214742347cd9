public import IEC104

/// Where a station (C_IC_NA_1) or counter (C_CI_NA_1) interrogation stands: ACTCON, the points, ACTTERM,
/// per common address — a broadcast request is answered by every common address of the station, so after
/// the last ACTTERM it waits `settle` for another one to start. Time is passed in; the owner waits for the
/// next frame until ``deadline`` and calls ``deadlineReached()`` when none came.
public struct InterrogationProgress: Sendable {
    /// Common addresses that confirmed positively.
    public private(set) var confirmed: Set<UInt16> = []
    /// Common addresses that sent ACTTERM.
    public private(set) var terminated: Set<UInt16> = []
    /// Negative replies.
    public private(set) var refusals: [Confirmation] = []
    public private(set) var points = 0
    /// Every confirming common address also terminated, and nothing was refused.
    public private(set) var complete = false
    /// Nothing more to wait for: finished, or the deadline passed.
    public private(set) var isDone = false
    /// Seconds from the request to the last confirmation.
    public private(set) var seconds: Double = 0
    /// Until when to wait for the next frame.
    public private(set) var deadline: LinkInstant

    private let request: [UInt8]
    private let broadcast: Bool
    private let started: LinkInstant
    /// The longest silence accepted: it restarts with every frame, so a long interrogation does not time
    /// out while points keep coming.
    private let silence: Duration
    private let settle: Duration
    private var settling = false

    /// Starts waiting at `now`, when `request` was sent.
    public init(request: [UInt8], silence: Duration, settle: Duration = .milliseconds(300), now: LinkInstant) {
        self.request = request
        broadcast = request.count >= ASDU.headerLength
            && (UInt16(request[4]) | UInt16(request[5]) << 8) == ASDU.broadcastAddress
        self.silence = silence
        self.settle = settle
        started = now
        deadline = now + silence
    }

    /// Waits the full silence from `now` again: for when sending the request had to wait for the k window.
    public mutating func restartSilence(now: LinkInstant) {
        deadline = now + silence
    }

    /// A received ASDU: its confirmation when it answers the request (the progress is updated), else nil.
    public mutating func received(_ asdu: [UInt8], now: LinkInstant) -> Confirmation? {
        deadline = now + silence
        guard let confirmation = Confirmation.match(asdu, request: request) else { return nil }
        let ca = confirmation.header.commonAddress
        if confirmation.isNegative {
            refusals.append(confirmation)
        } else if confirmation.isTermination {
            terminated.insert(ca)
        } else if confirmation.isActivationConfirmation {
            confirmed.insert(ca)
        }
        seconds = now.duration(since: started).secondsDouble
        let finished = confirmed.isSubset(of: terminated) && (!confirmed.isEmpty || !refusals.isEmpty)
        if finished {
            if !broadcast {
                complete = refusals.isEmpty
                isDone = true
            } else {
                settling = true
                deadline = now + settle
            }
        } else {
            settling = false
        }
        return confirmation
    }

    /// `count` monitor points of a received ASDU that was no confirmation.
    public mutating func pointsReceived(_ count: Int, now: LinkInstant) {
        points += count
        if settling { deadline = now + settle }
    }

    /// No frame came before ``deadline``.
    public mutating func deadlineReached() {
        if settling { complete = refusals.isEmpty }
        isDone = true
    }
}
