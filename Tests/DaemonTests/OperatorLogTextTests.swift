import Daemon
import IEC104
import Logging
import NIOCore
import Outstation
@testable import Server
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Operator log text: OS errors, limited-log summaries and the command audit line")
struct OperatorLogTextTests {
    @Test func ioErrorsReadAsTheOSSaysThem() {
        let reset = IOError(errnoCode: ECONNRESET, reason: "read(descriptor:pointer:size:)")
        #expect(OperatorErrorText.text(for: reset) == "connection reset by peer")
        #expect(OperatorErrorText.text(for: IOError(errnoCode: EADDRINUSE, reason: "bind")) == "address already in use")
        #expect(OperatorErrorText.text(errno: EPIPE) == "broken pipe")
        #expect(OperatorErrorText.text(for: ChannelError.eof) == "connection closed by peer")
    }

    @Test func summariesNameCountPeerAndWindow() {
        #expect(LimitedLogKind.summary(.refusedRequest, suppressed: 1995, peer: "127.0.0.1",
                                       reason: "unknown common address of ASDU (46)", seconds: 10)
            == "refused 1995 more requests from 127.0.0.1 in 10 s, not logged one by one: unknown common address of ASDU (46)")
        #expect(LimitedLogKind.summary(.connectionChurn, suppressed: 1, peer: "10.0.0.1", reason: "churn", seconds: 10)
            == "1 more connection event (connect, replace, close, disconnect) from 10.0.0.1 in 10 s, not logged one by one")
        #expect(LimitedLogKind.otherSummary(.connectionChurn, suppressed: 40, sources: 3, seconds: 10)
            == "40 more connection events from 3 other sources in 10 s, not logged one by one")
    }

    /// The acceptance figure of issue 13: 2,000 refusals from one peer in one window give at most 100 lines.
    @Test func aFloodFromOnePeerIsBounded() {
        var limiter = LimitedLogKind.limiter(.refusedRequest)
        let start = ContinuousClock.now
        let source = RefusalLogLimiter.Source(listener: "main", peer: "127.0.0.1", reason: "unknown common address of ASDU (46)")
        var logged = 0
        for index in 0..<2000 where limiter.refusal(source, now: start + .milliseconds(index)) == .log { logged += 1 }
        let report = limiter.endWindow()
        #expect(logged == 5)
        #expect(report.summaries.map(\.suppressed) == [1995])
    }

    @Test func auditLineAndFieldsCarryWhoWhatAndOutcome() {
        let time = CP56Time2a(unixMilliseconds: 1_796_398_463_331)
        let request = commandRequest(
            ioa: 10, element: .doubleCommand(DoubleCommand(state: .on, qualifier: CommandQualifier(rawValue: 0), isSelect: true),
                                             time: time),
            isSelect: true, station: "scada", peer: "10.0.0.9", time: time)
        let line = CommandAudit.line(request, handler: "breaker", result: .failure(reason: "handler exited with status 3"),
                                     duration: .milliseconds(42))
        #expect(line == "command C_DC_TA_1 select on, QU=0 at 2026-12-04T15:34:23.331Z on 47:10 from 10.0.0.9 "
            + "(station 'scada'): negative, handler exited with status 3, handler breaker (42 ms)")
        let fields = CommandAudit.metadata(request, handler: "breaker", result: .success(updates: []), duration: .milliseconds(7))
        #expect(fields == ["event": "command", "station": "scada", "peer": "10.0.0.9", "ca": "47", "ioa": "10",
                           "type": "C_DC_TA_1", "value": "select on, QU=0", "phase": "select", "handler": "breaker",
                           "duration_ms": "7", "command_time": "2026-12-04T15:34:23.331Z", "result": "positive"])
    }

    @Test func theDispatcherWritesOneAuditLinePerCommand() async {
        let log = LogRecorder()
        let dispatcher = CommandDispatcher(configuration: daemonConfiguration(handlers: [], bindings: [:]), logger: log.logger)
        _ = await dispatcher.execute(commandRequest(peer: "10.0.0.9"))
        let audit = log.all.filter { $0.metadata["event"] == "command" }
        #expect(audit.count == 1)
        #expect(audit.first?.level == .notice)
        #expect(audit.first?.metadata["result"] == "positive")
        #expect(audit.first?.metadata["handler"] == "builtin")
    }
}
