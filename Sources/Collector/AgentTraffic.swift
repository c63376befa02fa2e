// The seam between the agent side of the collector (AgentReceiver, Forwarder) and the Lambda side
// (InvocationBook, the run loop). The receiver decodes what the agent sends, hands the events to the
// Forwarder and tells an `AgentObserver` what it saw, so the book can end invocations and decide on
// proxy transactions without parsing JSON itself.

import NIOCore

/// One intake request from an APM agent, decoded (decompressed, split into ndjson lines, classified).
public struct AgentBatch: Sendable {
    /// The metadata line, if this request carried one (found by its key, never assumed to be line one).
    public var metadata: ByteBuffer?
    /// Every event line except metadata, in order, without trailing newlines.
    public var events: [ByteBuffer]
    /// `transaction` events seen in this request: their id and, when the agent set it, `faas.execution`
    /// (the Lambda request id the transaction belongs to).
    public var transactions: [ObservedTransaction]
    /// Decompressed size of the body in bytes.
    public var bytes: Int
    /// The request had `?flushed=true`: the agent has sent everything for its current invocation.
    public var flushed: Bool
    /// When the receiver got the request (epoch microseconds).
    public var receivedAt: Int64

    public init(
        metadata: ByteBuffer? = nil, events: [ByteBuffer] = [], transactions: [ObservedTransaction] = [],
        bytes: Int = 0, flushed: Bool = false, receivedAt: Int64
    ) {
        self.metadata = metadata
        self.events = events
        self.transactions = transactions
        self.bytes = bytes
        self.flushed = flushed
        self.receivedAt = receivedAt
    }
}

/// A transaction event the agent sent.
public struct ObservedTransaction: Sendable, Equatable {
    public var transactionID: String
    /// `transaction.faas.execution`: the request id the agent says the transaction belongs to.
    public var requestID: String?

    public init(transactionID: String, requestID: String?) {
        self.transactionID = transactionID
        self.requestID = requestID
    }
}

/// A partial transaction the agent registered at the start of an invocation (`/register/transaction`).
public struct TransactionRegistration: Sendable {
    /// From the `x-elastic-aws-request-id` header.
    public var requestID: String
    public var transactionID: String
    public var traceID: String?
    /// The metadata line, when the registration carried one.
    public var metadata: ByteBuffer?
    /// The raw `{"transaction":{...}}` line: the template of a proxy transaction.
    public var transaction: ByteBuffer
    public var receivedAt: Int64

    public init(
        requestID: String, transactionID: String, traceID: String? = nil, metadata: ByteBuffer? = nil,
        transaction: ByteBuffer, receivedAt: Int64
    ) {
        self.requestID = requestID
        self.transactionID = transactionID
        self.traceID = traceID
        self.metadata = metadata
        self.transaction = transaction
        self.receivedAt = receivedAt
    }
}

/// Told by the AgentReceiver about agent traffic; implemented by the InvocationBook.
public protocol AgentObserver: Sendable {
    /// Called after the batch was handed to the Forwarder (or counted as dropped).
    func agentSent(_ batch: AgentBatch) async
    /// Called for every accepted `/register/transaction`.
    func agentRegistered(_ registration: TransactionRegistration) async
}
