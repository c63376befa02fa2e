// A one-shot timer on NIO's event loop. An invocation's deadline timer used to be a Task sleeping on a Dispatch
// timer (its own manager thread, and a Task per invocation even when the timer never fires); this is one entry in
// the loop's timer heap, removed again by `cancel()`. It is a scheduled *callback*, not `scheduleTask`: the event
// loop keeps a callback without the promise, future and cancellation error a `Scheduled<Void>` carries, and the
// collector sets and cancels about five of these per invocation (deadline, agent read timeout, forwarder sends).

import NIOCore
import NIOPosix

/// Runs `fire` once after a delay (or at a deadline) unless cancelled first.
struct LoopTimer: Sendable {
    private let scheduled: NIOScheduledCallback?

    init(after delay: TimeAmount, on loop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any(),
         _ fire: @escaping @Sendable () -> Void) {
        self.init(at: .now() + delay, on: loop, fire)
    }

    init(at deadline: NIODeadline, on loop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any(),
         _ fire: @escaping @Sendable () -> Void) {
        // Throws only when the loop is shutting down; a timer set then never fires, as with `scheduleTask`.
        scheduled = try? loop.scheduleCallback(at: deadline, handler: Fire(fire: fire))
    }

    func cancel() { scheduled?.cancel() }

    private struct Fire: NIOScheduledCallbackHandler, Sendable {
        let fire: @Sendable () -> Void
        func handleScheduledCallback(eventLoop: some EventLoop) { fire() }
    }
}
