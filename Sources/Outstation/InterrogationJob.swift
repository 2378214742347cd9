import IEC104

/// One interrogation (general, group, counter) or periodic scan in progress for a station:
/// ACTCON, the points of each common address, ACTTERM — produced one ASDU at a time, so the
/// values are read when they are sent and a later event is never overtaken by an older snapshot.
struct InterrogationJob {
    enum Kind: Equatable {
        /// C_IC_NA_1: group nil for station interrogation.
        case interrogation(group: Int?)
        /// C_CI_NA_1 with the read qualifier: group nil for the general request.
        case counterRead(group: Int?)
        /// C_CI_NA_1 with a freeze or reset qualifier: confirmation and termination only.
        case counterFreeze(CounterInterrogationQualifier)
        /// Cyclic or background transmission: points only, no confirmations.
        case periodic(Cause)
    }

    let kind: Kind
    /// The request as received, mirrored in ACTCON and ACTTERM; nil for a periodic scan.
    let request: ASDURequest?
    let originator: UInt8
    let replyCause: Cause
    /// When the request came, for the interrogation's duration; nil for a periodic scan.
    let startedAt: LinkInstant?
    private var remainingCommonAddresses: [UInt16]
    private var phase: Phase = .confirm
    private let fixedIndices: [Int32]?
    /// The points of the common address being sent, and how far the job got through them.
    private var scope = Scope(commonAddress: 0, indices: [], image: nil)

    private enum Phase {
        case confirm
        case data
        case terminate
        case done
    }

    /// Kept outside ``Phase`` so that building each ASDU mutates it in place instead of copying the
    /// indices and the image reference out of an enum payload and back.
    private struct Scope {
        var commonAddress: UInt16
        var indices: [Int32]
        var cursor = 0
        /// The image the indices belong to: a reload that swaps the image mid-interrogation does not disturb it.
        var image: ProcessImage?

        init(commonAddress: UInt16, indices: [Int32], image: ProcessImage?) {
            self.commonAddress = commonAddress
            self.indices = indices
            self.image = image
        }
    }

    init(kind: Kind, request: ASDURequest, replyCause: Cause, commonAddresses: [UInt16], startedAt: LinkInstant) {
        self.kind = kind
        self.request = request
        self.startedAt = startedAt
        self.originator = request.header.cause.originator
        self.replyCause = replyCause
        self.remainingCommonAddresses = commonAddresses
        self.fixedIndices = nil
    }

    /// A periodic scan of fixed points (all of one common address).
    init(periodicScan indices: [Int32], cause: Cause, commonAddress: UInt16, image: ProcessImage) {
        self.kind = .periodic(cause)
        self.request = nil
        self.startedAt = nil
        self.originator = 0
        self.replyCause = cause
        self.remainingCommonAddresses = [commonAddress]
        self.fixedIndices = indices
        self.scope = Scope(commonAddress: commonAddress, indices: indices, image: image)
        self.phase = .data
        self.remainingCommonAddresses = []
    }

    /// The kind of interrogation it answers, as counted and measured; nil for a periodic scan.
    var measuredKind: InterrogationKind? {
        switch kind {
        case .interrogation(let group): group == nil ? .station : .group
        case .counterRead, .counterFreeze: .counter
        case .periodic: nil
        }
    }

    var isDone: Bool {
        if case .done = phase { return true }
        return false
    }

    /// Whether this job answers a C_IC_NA_1 / C_CI_NA_1 request of `typeID` for `commonAddress` (for deactivation).
    func answers(typeID: TypeID, commonAddress: UInt16) -> Bool {
        guard let header = request?.header else { return false }
        return header.typeID == typeID && header.commonAddress == commonAddress
    }

    /// The next ASDU of the job, or nil when it is finished.
    mutating func next(image: ProcessImage) -> [UInt8]? {
        while true {
            switch phase {
            case .done:
                return nil
            case .confirm:
                guard !remainingCommonAddresses.isEmpty else { phase = .done; return nil }
                let commonAddress = remainingCommonAddresses.removeFirst()
                scope = Scope(commonAddress: commonAddress, indices: indices(image: image, commonAddress: commonAddress),
                              image: image)
                if case .counterFreeze(let qcc) = kind {
                    image.freezeCounters(image.counterPoints(commonAddress: commonAddress, group: qcc.group), mode: qcc.freeze)
                    phase = .terminate
                } else {
                    phase = .data
                }
                return reply(cause: .activationConfirmation, commonAddress: commonAddress)
            case .data:
                guard scope.cursor < scope.indices.count, let scopedImage = scope.image else {
                    if case .periodic = kind { phase = .done; return nil }
                    phase = .terminate
                    continue
                }
                return PointPacker.nextASDU(image: scopedImage, indices: scope.indices, cursor: &scope.cursor,
                                            cause: replyCause, originator: originator,
                                            commonAddress: scope.commonAddress, useFrozenCounters: isCounterRead)
            case .terminate:
                phase = .confirm
                return reply(cause: .activationTermination, commonAddress: scope.commonAddress)
            }
        }
    }

    private var isCounterRead: Bool {
        if case .counterRead = kind { return true }
        return false
    }

    private func indices(image: ProcessImage, commonAddress: UInt16) -> [Int32] {
        if let fixedIndices { return fixedIndices }
        switch kind {
        case .interrogation(let group): return image.interrogationPoints(commonAddress: commonAddress, group: group)
        case .counterRead(let group): return image.counterPoints(commonAddress: commonAddress, group: group)
        case .counterFreeze, .periodic: return []
        }
    }

    /// The request mirrored with a new cause and, for a broadcast request, the answering common address.
    /// A periodic scan has no request and never confirms.
    private func reply(cause: Cause, commonAddress: UInt16) -> [UInt8]? {
        request?.reply(cause: cause, commonAddress: commonAddress)
    }
}
