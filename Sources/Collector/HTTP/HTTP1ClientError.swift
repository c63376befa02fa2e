/// A request that got no complete answer from an `HTTP1Client`.
public struct HTTP1ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The connection could not be made (refused, unreachable, name not resolved, TLS handshake).
        case connect
        /// The deadline passed before the whole answer arrived.
        case timeout
        /// The caller's task was cancelled.
        case cancelled
        /// The peer closed the connection or it failed before the answer was complete.
        case connectionClosed
        /// The answer's body was larger than the caller accepts.
        case responseTooLarge
        /// The client was shut down.
        case shutDown
    }

    public var code: Code
    public var detail: String
    /// The connection failed before any byte of the answer arrived (set by the connection's `ResponseCollector`).
    var beforeAnswer = false

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// On a reused connection this means the server had closed it while it sat in the pool (an idle timeout,
    /// or a Lambda freeze in between): the request may go once more on a new connection.
    var isStaleConnection: Bool { code == .connectionClosed && beforeAnswer }
    static let closedBeforeAnswer = "closed before any answer"

    public var description: String { "\(code.rawValue): \(detail)" }
}
