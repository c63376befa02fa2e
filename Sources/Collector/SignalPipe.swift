// SIGTERM and SIGINT without libdispatch: a handler writes each trapped signal's number to a pipe (CSignalPipe) and
// the event loop reads it. swift-service-lifecycle's UnixSignalsSequence delivers them through a libdispatch signal
// source, which keeps libdispatch's manager thread and a worker in the process, idle but there; a freeze (SIGSTOP,
// SIGCONT) wakes every thread of the process twice, and Lambda freezes after every invocation of a function that is
// not invoked back to back (docs/layer.md, issue 16). As with UnixSignals, a trapped signal stays trapped: once no
// one watches, it is dropped rather than taking its default action.

import CSignalPipe
import NIOCore
import NIOPosix
import Synchronization
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The process's trapped signals as an async sequence, read by an event loop from a self-pipe.
final class SignalPipe: Sendable {
    /// The process's one pipe (signal dispositions are per process).
    static let shared = SignalPipe()

    private struct State {
        var started = false
        var watchers: [Int: (wanted: [UnixSignal], continuation: AsyncStream<UnixSignal>.Continuation)] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())
    /// Serialises the pipe's start: the second caller waits for the first.
    private let starting = Mutex<EventLoopFuture<Void>?>(nil)

    /// Traps `signals` and delivers them, in order, until the returned stream is dropped (every watcher of a signal
    /// gets it). Throws when the pipe cannot be made.
    func watch(_ signals: [UnixSignal], group: any EventLoopGroup) async throws -> AsyncStream<UnixSignal> {
        try await start(group: group).get()
        let (stream, continuation) = AsyncStream.makeStream(of: UnixSignal.self)
        let id = state.withLock { state -> Int in
            state.nextID += 1
            state.watchers[state.nextID] = (signals, continuation)
            return state.nextID
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        for signal in signals where lantern_signal_pipe_trap(signal.rawValue) != 0 {
            throw SignalPipeError(message: "cannot trap \(signal): errno \(errno)")
        }
        return stream
    }

    /// A byte read from the pipe: the number of a signal that arrived.
    fileprivate func deliver(_ number: Int32) {
        let deliveries = state.withLock { state in
            state.watchers.values.compactMap { watcher -> (UnixSignal, AsyncStream<UnixSignal>.Continuation)? in
                watcher.wanted.first { $0.rawValue == number }.map { ($0, watcher.continuation) }
            }
        }
        for (signal, continuation) in deliveries { continuation.yield(signal) }
    }

    private func start(group: any EventLoopGroup) -> EventLoopFuture<Void> {
        starting.withLock { starting in
            if let starting { return starting }
            let future = Self.makePipe(for: self, group: group)
            starting = future
            return future
        }
    }

    private static func makePipe(for pipe: SignalPipe, group: any EventLoopGroup) -> EventLoopFuture<Void> {
        let loop = group.next()
        var readEnd: Int32 = -1
        var writeEnd: Int32 = -1
        guard lantern_signal_pipe_make(&readEnd, &writeEnd) == 0 else {
            return loop.makeFailedFuture(SignalPipeError(message: "cannot make the signal pipe: errno \(errno)"))
        }
        let (input, output) = (readEnd, writeEnd)
        let opened = NIOPipeBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SignalReader(pipe: pipe))
                }
            }
            .takingOwnershipOfDescriptor(input: input)
        return opened.map { _ in
            // The write end stays open for the life of the process: a handler must never write to a closed pipe.
            lantern_signal_pipe_set(output)
        }.flatMapErrorThrowing { error in
            close(input)
            close(output)
            throw SignalPipeError(message: "cannot read the signal pipe: \(error)")
        }
    }
}

/// The signal pipe could not be set up.
struct SignalPipeError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Reads signal numbers off the pipe.
private final class SignalReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let pipe: SignalPipe

    init(pipe: SignalPipe) { self.pipe = pipe }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        while let number = bytes.readInteger(as: UInt8.self) { pipe.deliver(Int32(number)) }
    }
}
