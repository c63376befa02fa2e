// A one-shot timer on NIO's event loop. An invocation's deadline timer used to be a Task sleeping on a Dispatch
// timer (its own manager thread, and a Task per invocation even when the timer never fires); this is one entry in
// the loop's timer heap, removed again by `cancel()`.

import NIOCore
import NIOPosix

/// Runs `fire` once after a delay unless cancelled first.
struct LoopTimer: Sendable {
    private let scheduled: Scheduled<Void>

    init(after delay: TimeAmount, on loop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any(),
         _ fire: @escaping @Sendable () -> Void) {
        scheduled = loop.scheduleTask(in: delay, fire)
    }

    func cancel() { scheduled.cancel() }
}
