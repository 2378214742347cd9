import Logging
import NIOCore
import Outstation
import Server

/// One client of the control socket: every line in gets one line out, in order.
///
/// Back-pressure: a `set` is answered once its updates are in the process image, which waits while a station
/// whose master keeps up is full; meanwhile, and while the client does not take its replies, nothing more is
/// read from it, so its writes block instead of the daemon buffering (or dropping) what it sent.
/// With an event journal a `set` is answered once its events are on disk too; the lines behind it are read and
/// answered meanwhile (their updates apply after it), and their replies wait for its reply to keep the order.
final class ControlConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: OutstationServer
    let reloader: Reloader
    /// Where a reload or an `exec` runs: a child task of the control socket's service.
    private let jobs: ControlJobs
    private let logger: Logger
    private let errorLimit: Int

    /// Lines read and not yet answered, oldest first.
    private var lines = CircularBuffer<String>(initialCapacity: 64)
    /// Replies due, written together when the current lines are done.
    private var replies = ""
    /// A `set` waiting for room: the lines behind it wait too, so that updates apply in order.
    private var waitingForRoom = false
    /// Which `set` that is (see `nextSet`): an earlier one's late answer does not end the wait.
    private var waitingSet: UInt64 = 0
    private var nextSet: UInt64 = 0
    /// Replies behind a `set` whose answer waits for the journal, in request order; nil until it comes.
    private var heldReplies = CircularBuffer<String?>()
    /// The position, counted since the connection opened, of `heldReplies.first`.
    private var firstHeldPosition = 0
    private var answering = false
    private var reading = true
    private var consecutiveErrors = 0
    private var watchToken: UInt64?

    init(server: OutstationServer, reloader: Reloader, jobs: ControlJobs, errorLimit: Int, logger: Logger) {
        self.server = server
        self.reloader = reloader
        self.jobs = jobs
        self.errorLimit = errorLimit
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        lines.append(buffer.readString(length: buffer.readableBytes) ?? "")
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        answerLines(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        answerLines(context: context)
        context.fireChannelWritabilityChanged()
    }

    /// Answers lines in order until one has to wait for room or the client stops taking replies.
    private func answerLines(context: ChannelHandlerContext) {
        guard !answering else { return }
        answering = true
        var answered = 0
        while answered < Self.linesPerTurn, !waitingForRoom, context.channel.isWritable, context.channel.isActive,
              let line = lines.popFirst() {
            answer(line, context: context)
            answered += 1
        }
        answering = false
        send(context: context)
        if answered == Self.linesPerTurn, !lines.isEmpty { continueNextTurn(context: context) }
        // Read on only when everything read so far is answered and the client takes its replies.
        setReading(lines.isEmpty && !waitingForRoom && context.channel.isWritable, context: context)
    }

    /// Lines answered per turn of the event loop: one read can hold thousands of lines, and answering them all
    /// at once (an error reply costs tens of microseconds) would keep the masters' frames waiting.
    static let linesPerTurn = 256
    private var continuationScheduled = false

    private func continueNextTurn(context: ChannelHandlerContext) {
        guard !continuationScheduled else { return }
        continuationScheduled = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let contextBox = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            handler.value.continuationScheduled = false
            handler.value.answerLines(context: contextBox.value)
        }
    }

    private func answer(_ line: String, context: ChannelHandlerContext) {
        let server = self.server
        let answer = ControlService.answer(line, outstation: server.outstationOnLoop, wallTime: SystemClock.wallMilliseconds()) {
            let inputs = server.statusInputsOnLoop
            var status = ControlService.StatusInputs(listeners: inputs.listeners, tls: inputs.tls,
                                                     ingest: server.ingestStatisticsOnLoop, daemon: reloader.record)
            status.server = server.countersOnLoop.server
            return status
        }
        switch answer {
        case .reply(let text):
            succeeded()
            reply(text + "\n")
        case .error(let text):
            reply(text + "\n")
            failed(context: context)
        case .ingest(let updates):
            succeeded()
            waitingForRoom = true
            nextSet += 1
            let set = nextSet
            waitingSet = set
            let position = holdReply()
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            let contextBox = NIOLoopBound(context, eventLoop: context.eventLoop)
            // `answer` has checked the updates against the points.
            server.ingestOnLoop(validated: updates, applied: {
                handler.value.applied(set, context: contextBox.value)
            }, completion: { outcome in
                handler.value.ingested(updates.count, outcome: outcome, set: set, position: position,
                                       context: contextBox.value)
            })
        case .watch(let confirmation):
            succeeded()
            if watchToken == nil { subscribe(channel: context.channel) }
            reply(confirmation + "\n")
        case .reload:
            succeeded()
            // A reload's reply follows the replies already due; later requests do not wait for it.
            send(context: context)
            let reloader = self.reloader
            let channel = context.channel
            let queued = jobs.submit {
                let outcome = await reloader.reload()
                Self.send(ControlService.render(outcome.succeeded ? ["ok": true, "message": outcome.message]
                                                                  : ["ok": false, "error": outcome.message]) + "\n",
                          on: channel)
            }
            if !queued { reply(Self.stoppingReply) }
        case .exec(let plan):
            succeeded()
            // Like a reload: the handler runs off the loop, its reply follows those already due.
            send(context: context)
            let handler: any CommandHandler = reloader.processes ?? FeedbackCommandHandler()
            let server = self.server
            let channel = context.channel
            let logger = self.logger
            let queued = jobs.submit {
                let reply = await ControlExec.run(plan, handler: handler, server: server, logger: logger)
                Self.send(reply + "\n", on: channel)
            }
            if !queued { reply(Self.stoppingReply) }
        }
    }

    /// The reply to a reload or `exec` that arrives once the daemon has begun to stop.
    static let stoppingReply = ControlService.errorReply("not done: rtu104d is stopping") + "\n"

    /// A reply due now: after the held ones, if any.
    private func reply(_ text: String) {
        if heldReplies.isEmpty { replies += text } else { heldReplies.append(text) }
    }

    /// Keeps a place for a reply that comes later; returns it.
    private func holdReply() -> Int {
        heldReplies.append(nil)
        return firstHeldPosition + heldReplies.count - 1
    }

    /// Fills a kept place and releases the replies that no longer wait.
    private func fill(_ position: Int, with text: String) {
        heldReplies[heldReplies.index(heldReplies.startIndex, offsetBy: position - firstHeldPosition)] = text
        while let first = heldReplies.first, let text = first {
            replies += text
            heldReplies.removeFirst()
            firstHeldPosition += 1
        }
    }

    /// The set's updates are applied: the lines behind it may go on (its reply waits for the journal).
    private func applied(_ set: UInt64, context: ChannelHandlerContext) {
        guard set == waitingSet, waitingForRoom else { return }
        waitingForRoom = false
        if !answering { answerLines(context: context) }
    }

    private func ingested(_ count: Int, outcome: IngestOutcome, set: UInt64, position: Int, context: ChannelHandlerContext) {
        if set == waitingSet { waitingForRoom = false }
        switch outcome {
        case .applied(let events): fill(position, with: ControlService.setReply(updated: count, events: events) + "\n")
        case .abandoned: fill(position, with: ControlService.errorReply("not applied: rtu104d is stopping") + "\n")
        }
        // Called from within `answerLines` when there was room at once; otherwise resume here.
        if !answering { answerLines(context: context) }
    }

    private func succeeded() { consecutiveErrors = 0 }

    /// Counts a refused request; a client that sends nothing but bad requests is let go after `errorLimit`.
    private func failed(context: ChannelHandlerContext) {
        consecutiveErrors += 1
        guard errorLimit > 0, consecutiveErrors == errorLimit else { return }
        logger.warning("control socket client disconnected after \(errorLimit) refused requests in a row",
                       metadata: ["limit": "\(errorLimit)"])
        lines.removeAll()
        send(context: context)
        context.close(promise: nil)
    }

    private func setReading(_ wanted: Bool, context: ChannelHandlerContext) {
        guard wanted != reading else { return }
        reading = wanted
        try? context.channel.syncOptions?.setOption(.autoRead, value: wanted)
        if wanted { context.read() }
    }

    private func send(context: ChannelHandlerContext) {
        guard !replies.isEmpty else { return }
        // Taken before writing: the write can change writability, which re-enters `answerLines` and this.
        let text = replies
        replies = ""
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
    }

    /// Streams every event to this client; a client that does not keep up loses lines, and is told how many.
    private func subscribe(channel: Channel) {
        let dropped = NIOLoopBoundBox(0, eventLoop: channel.eventLoop)
        let outstation = server.outstationOnLoop
        watchToken = outstation.observe { event in
            guard channel.isWritable else {
                dropped.value += 1
                return
            }
            if dropped.value > 0 {
                Self.send(#"{"dropped":\#(dropped.value)}"# + "\n", on: channel)
                dropped.value = 0
            }
            Self.send(ControlService.watchLine(event, outstation: outstation) + "\n", on: channel)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let token = watchToken {
            server.outstationOnLoop.removeObserver(token)
            watchToken = nil
        }
        context.fireChannelInactive()
    }

    /// Writes whole lines (each already ends in a newline); nothing for an empty text.
    private static func send(_ text: String, on channel: Channel) {
        guard !text.isEmpty else { return }
        channel.writeAndFlush(channel.allocator.buffer(string: text), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.warning("control socket client closed: \(OperatorErrorText.text(for: error))")
        context.close(promise: nil)
    }
}
