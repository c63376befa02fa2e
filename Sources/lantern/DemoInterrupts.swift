// SIGINT (Ctrl-C) and SIGTERM as an async sequence, so the demo can stop its invoker and spin the
// sandbox down in order instead of dying with children left behind.

import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// Delivers SIGINT, SIGTERM and SIGHUP (a closed terminal) to the demo instead of their default action (exit).
/// Owned by the command's `run()`; tasks get only the `signals` stream.
final class DemoInterrupts {
    /// One element per signal received.
    let signals: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init() {
        let (stream, sink) = AsyncStream.makeStream(of: Int32.self)
        signals = stream
        sources = [SIGINT, SIGTERM, SIGHUP].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { sink.yield(number) }
            source.resume()
            return source
        }
    }

    deinit { sources.forEach { $0.cancel() } }
}
