import Config
@testable import Daemon
import Foundation
import IEC104
@testable import Outstation
import Testing
import TestSupport

@Suite("Command dispatcher")
struct DispatcherTests {
    init() { ChildProcess.ignoreBrokenPipes() }

    /// 2026-03-01 12:00:00 UTC
    static let now: Int64 = 1_772_366_400_000

    private func dispatcher(maxAge: Duration?) -> CommandDispatcher {
        CommandDispatcher(configuration: daemonConfiguration(handlers: [], bindings: [:], maxAge: maxAge),
                          logger: LogRecorder().logger, wallClock: { Self.now })
    }

    private func timed(_ secondsAgo: Int64) -> CommandRequest {
        let time = CP56Time2a(unixMilliseconds: Self.now - secondsAgo * 1000)
        return commandRequest(element: .singleCommand(SingleCommand(isOn: true), time: time), time: time)
    }

    @Test func oldTimeTaggedCommandsAreRefused() async {
        let result = await dispatcher(maxAge: .seconds(30)).execute(timed(45))
        guard case .failure(let reason) = result else { Issue.record("accepted"); return }
        #expect(reason == "command time tag 2026-03-01T11:59:15.000Z is 45.0 s old, more than command_max_age = 30 s")
    }

    @Test func recentOnesAndThoseWithoutTimeRun() async {
        let dispatcher = dispatcher(maxAge: .seconds(30))
        if case .failure(let reason) = await dispatcher.execute(timed(10)) { Issue.record("refused: \(reason)") }
        if case .failure(let reason) = await dispatcher.execute(commandRequest()) { Issue.record("refused: \(reason)") }
    }

    @Test func noMaxAgeNoCheck() async {
        if case .failure(let reason) = await dispatcher(maxAge: nil).execute(timed(3600)) { Issue.record("refused: \(reason)") }
    }

    @Test func impossibleDatesAreRefused() async {
        let time = CP56Time2a(year: 26, month: 2, dayOfMonth: 30, hour: 0, minute: 0, milliseconds: 0)
        let result = await dispatcher(maxAge: .seconds(30)).execute(commandRequest(time: time))
        guard case .failure(let reason) = result else { Issue.record("accepted"); return }
        #expect(reason.contains("not a valid date"))
    }

    @Test func pointsWithoutHandlerUseTheFeedbackHandler() async {
        let request = CommandRequest(id: 1, station: "s", peer: "p", point: testPoints.commandPoints[0],
                                     element: .singleCommand(SingleCommand(isOn: true)), isSelect: false, originator: 0,
                                     time: nil, suggestedFeedback: PointUpdate(address: address(1), value: .single(true)))
        guard case .success(let updates) = await dispatcher(maxAge: nil).execute(request) else { Issue.record("failed"); return }
        #expect(updates == [PointUpdate(address: address(1), value: .single(true))])
    }
}

@Suite("Update lines")
struct UpdateLineTests {
    let parser = UpdateParser(points: testPoints)

    @Test func pointLinesAndSetRequests() throws {
        #expect(try parser.parseLine(#"{"point":"47:3","value":231.5}"#)?.get()
                == [PointUpdate(address: address(3), value: .float(231.5))])
        #expect(try parser.parseLine(#" {"ca":47,"ioa":1,"value":true,"quality":["invalid"]} "#)?.get()
                == [PointUpdate(address: address(1), value: .single(true), quality: .invalid)])
        #expect(try parser.parseLine(#"{"op":"set","points":[{"point":"47:1","value":"off"},{"point":"47:2","value":"on"}]}"#)?.get().count == 2)
    }

    @Test func hugeNumbersDoNotCrash() {
        if case .success? = parser.parseLine(#"{"point":"47:3","value":1e999}"#) { Issue.record("accepted") }
        if case .success? = parser.parseLine(#"{"point":"47:1","value":123456789012345678901234567890}"#) { Issue.record("accepted") }
    }

    @Test func freeTextIsNotAnUpdate() {
        #expect(parser.parseLine("switching breaker") == nil)
        #expect(parser.parseLine("[1,2]") == nil)
        #expect(parser.parseLine(#"{"point":"47:1","value":true}], "op": "get"#) == nil)
    }

    @Test(arguments: [
        (#"{"point":"47:9","value":1}"#, "points[0]: no monitor point 47:9"),
        (#"{"point":"47:3","value":"NaN"}"#, "points[0]: 47:3: float value: \"NaN\" is not a number; expected a number in -3.4028234663852886e+38…3.4028234663852886e+38"),
        (#"{"point":"47:3","value":1e39}"#, "points[0]: 47:3: float value: 1e39 is outside the allowed range -3.4028234663852886e+38…3.4028234663852886e+38"),
        (#"{"point":"47:1","value":true,"extra":1}"#, "points[0]: unknown key \"extra\""),
        (#"{"op":"get"}"#, "only \"op\":\"set\" sets points"),
    ])
    func badLines(line: String, message: String) {
        guard case .failure(let error)? = parser.parseLine(line) else { Issue.record("accepted \(line)"); return }
        #expect(error.message == message)
    }

    @Test func lineSplitterBoundsLines() {
        var splitter = LineSplitter(limit: 8)
        var events: [LineSplitter.Event] = []
        splitter.feed(Array("short\r\nway too long a line\nok\ntail".utf8)) { events.append($0) }
        splitter.finish { events.append($0) }
        #expect(events == [.line("short"), .overlong(19), .line("ok"), .line("tail")])
    }
}
