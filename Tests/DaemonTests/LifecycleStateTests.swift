@testable import Daemon
import Testing

@Suite struct LifecycleStateTests {
    @Test func aDaemonGoesThroughItsStatesInOrder() {
        let lifecycle = DaemonLifecycle()
        #expect(lifecycle.state == .starting)
        #expect(lifecycle.advance(to: .running))
        #expect(lifecycle.advance(from: .running, to: .reloading))
        #expect(lifecycle.advance(from: .reloading, to: .running))
        #expect(lifecycle.advance(to: .stopping))
        #expect(lifecycle.advance(to: .stopped))
        #expect(lifecycle.state == .stopped)
    }

    @Test func aReloadThatEndsAfterTheStopBeganLeavesTheDaemonStopping() {
        let lifecycle = DaemonLifecycle()
        lifecycle.advance(to: .running)
        lifecycle.advance(from: .running, to: .reloading)
        lifecycle.advance(to: .stopping)
        #expect(!lifecycle.advance(from: .reloading, to: .running), "no READY=1 after STOPPING=1")
        #expect(lifecycle.state == .stopping)
    }

    @Test(arguments: [
        (DaemonState.starting, DaemonState.reloading), (.stopping, .running), (.stopped, .running), (.stopped, .stopping),
        (.running, .starting),
    ])
    func aTransitionTheDiagramLacksIsRefused(from: DaemonState, to: DaemonState) {
        #expect(!from.allows(to))
    }
}

extension LifecycleStateTests {
    /// STOPPING=1 and a late reload's READY=1 are sent under the lifecycle's lock: the READY=1 of a reload that
    /// ends after the stop began is never sent.
    @Test func anAnnouncementIsMadeOnlyWithItsTransition() {
        let lifecycle = DaemonLifecycle()
        var sent: [String] = []
        lifecycle.advance(to: .running)
        lifecycle.advance(from: .running, to: .reloading) { sent.append("RELOADING=1") }
        lifecycle.advance(to: .stopping) { sent.append("STOPPING=1") }
        lifecycle.advance(from: .reloading, to: .running) { sent.append("READY=1") }
        #expect(sent == ["RELOADING=1", "STOPPING=1"])
    }
}
