// The accepted connections of a listener, so that stopping it closes them too (a server channel's close
// leaves its children open).

import NIOCore
import Synchronization

/// Accepted channels that are still open.
final class OpenConnections: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    /// Tracks `channel` until it closes.
    func opened(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in _ = channels.withLock { $0.removeValue(forKey: id) } }
    }

    /// Closes every tracked channel and waits until each has closed.
    func closeAll() async {
        let open = channels.withLock { Array($0.values) }
        for channel in open {
            channel.close(promise: nil)
            try? await channel.closeFuture.get()
        }
    }
}
