@testable import Server
import Testing

@Suite("RefusalLogLimiter: a flood of refused connections is logged as a few lines and a summary")
struct RefusalLogLimiterTests {
    static let start = ContinuousClock.now

    static func source(_ peer: String, _ reason: String = "address at its connection limit") -> RefusalLogLimiter.Source {
        .init(listener: "main", peer: peer, reason: reason)
    }

    @Test func firstRefusalsOfASourceAreLoggedTheRestSummarised() {
        var limiter = RefusalLogLimiter(window: .seconds(10), perSource: 5, total: 20)
        var decisions: [RefusalLogLimiter.Decision] = []
        for index in 0..<20 {
            decisions.append(limiter.refusal(Self.source("10.0.0.1"), now: Self.start + .milliseconds(index)))
        }
        #expect(decisions.prefix(5).allSatisfy { $0 == .log })
        #expect(decisions[5] == .suppress(firstInWindow: true))
        #expect(decisions.dropFirst(6).allSatisfy { $0 == .suppress(firstInWindow: false) })
        #expect(limiter.windowEnd == Self.start + .seconds(10))
        #expect(limiter.endWindow() == .init(summaries: [.init(source: Self.source("10.0.0.1"), suppressed: 15)],
                                             otherSources: 0, otherRefusals: 0))
        // A new window starts with the next refusal.
        #expect(limiter.refusal(Self.source("10.0.0.1"), now: Self.start + .seconds(11)) == .log)
        #expect(limiter.windowEnd == Self.start + .seconds(21))
    }

    @Test func sourcesAndReasonsAreCountedApart() {
        var limiter = RefusalLogLimiter(perSource: 2, total: 100)
        for peer in ["10.0.0.1", "10.0.0.2"] {
            for reason in ["a", "b"] {
                #expect(limiter.refusal(Self.source(peer, reason), now: Self.start) == .log)
                #expect(limiter.refusal(Self.source(peer, reason), now: Self.start) == .log)
            }
        }
        #expect(limiter.refusal(Self.source("10.0.0.2", "b"), now: Self.start) == .suppress(firstInWindow: true))
        #expect(limiter.endWindow().summaries == [.init(source: Self.source("10.0.0.2", "b"), suppressed: 1)])
    }

    @Test func quietWindowsNeedNoSummary() {
        var limiter = RefusalLogLimiter(window: .seconds(10), perSource: 5)
        // One refusal every 3 s is at most 4 per window: all logged, windows roll over without a summary.
        for step in 0..<30 {
            #expect(limiter.refusal(Self.source("10.0.0.1"), now: Self.start + .seconds(step * 3)) == .log)
        }
    }

    @Test func manySourcesAreBoundedOverallAndInMemory() {
        var limiter = RefusalLogLimiter(perSource: 5, total: 20, summaries: 3, maximumSources: 50)
        var logged = 0
        for index in 0..<100 {
            for _ in 0..<2 {
                if limiter.refusal(Self.source("10.0.1.\(index)"), now: Self.start) == .log { logged += 1 }
            }
        }
        #expect(logged == 20)
        let report = limiter.endWindow()
        #expect(report.summaries.count == 3)
        // 200 refusals: 20 logged, 3 sources summarised one by one, the rest in one line.
        let summarised = report.summaries.reduce(0) { $0 + $1.suppressed }
        #expect(summarised + report.otherRefusals == 180)
        #expect(report.otherSources == 50 - 10 - 3 + 1)  // tracked sources with refusals held, plus the untracked
    }
}
