#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// Delivers Unix signals as an async sequence, replacing their default action.
public enum SignalStream {
    public static func watching(_ signals: [Int32]) -> AsyncStream<Int32> {
        AsyncStream { continuation in
            let queue = DispatchQueue(label: "rtu104d.signals")
            let sources = signals.map { number -> DispatchSourceSignal in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                return source
            }
            let holder = SourceHolder(sources: sources)
            continuation.onTermination = { _ in holder.cancel() }
        }
    }
}

private final class SourceHolder: @unchecked Sendable {
    // Only touched on termination, once.
    private let sources: [DispatchSourceSignal]
    init(sources: [DispatchSourceSignal]) { self.sources = sources }
    func cancel() { sources.forEach { $0.cancel() } }
}
