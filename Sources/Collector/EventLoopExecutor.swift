// Swift Concurrency's global jobs on the collector's own event loop: one thread does the HTTP, the books and the
// forwarding, so an invocation's work never hops between NIO's threads and the cooperative pool (each hop is a
// futex wake and a context switch, which were a large part of the collector's system time).

import ExecutorHook
import NIOCore
import NIOPosix

/// Makes NIO's singleton event loop group, sized to `loops` threads, Swift Concurrency's global executor.
public enum EventLoopExecutor {
    /// Call first thing in `main`, on the main thread, before any task starts. Returns false when another hook
    /// was installed first (the collector then runs on the default pool, as before).
    @discardableResult
    public static func install(loops: Int) -> Bool {
        NIOSingletons.groupLoopCountSuggestion = loops
        return lantern_route_global_jobs { raw in
            // The runtime hands over a `Job *`; `UnownedJob` is that pointer (one word, no ownership).
            let job = unsafeBitCast(raw, to: UnownedJob.self)
            let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
            loop.executor.enqueue(ExecutorJob(job))
        } == 0
    }
}
