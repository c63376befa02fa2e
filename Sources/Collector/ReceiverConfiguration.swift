// Limits of the agent receiver.

import NIOCore

/// Settings of the AgentReceiver.
public struct ReceiverConfiguration: Sendable {
    /// Largest request body accepted as sent (compressed or not); larger bodies get 413.
    public var maxBodyBytes: Int
    /// Largest body after decompression; larger gets 413 (guards against gzip bombs).
    public var maxDecompressedBytes: Int
    /// Upper bound of a proxied request to the APM Server (Elastic: the receiver's 15 s write timeout).
    public var proxyTimeout: TimeAmount
    /// Largest APM Server answer passed back through the proxy.
    public var maxProxyResponseBytes: Int
    /// A request must arrive whole (head to end of body) within this, or its connection is closed
    /// (Elastic: the receiver's 15 s read timeout). Idle kept-alive connections are left alone.
    public var readTimeout: TimeAmount

    public init(
        maxBodyBytes: Int = 4 * 1024 * 1024, maxDecompressedBytes: Int = 16 * 1024 * 1024,
        proxyTimeout: TimeAmount = .seconds(15), maxProxyResponseBytes: Int = 4 * 1024 * 1024,
        readTimeout: TimeAmount = .seconds(15)
    ) {
        self.readTimeout = readTimeout
        self.maxBodyBytes = maxBodyBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.proxyTimeout = proxyTimeout
        self.maxProxyResponseBytes = maxProxyResponseBytes
    }
}
