// What the Forwarder knows about the APM Server, for the run loop, the store and the dashboard.

import NIOCore

/// The transport state towards the APM Server (after Elastic's `status.go`, plus an explicit backoff).
public enum ForwarderState: Sendable, Equatable {
    /// Nothing sent yet.
    case started
    /// The last send was accepted (202).
    case healthy
    /// A send failed (network error, timeout, 401/403, 5xx); nothing is tried before `until`.
    case backingOff(until: NIODeadline)
    /// The grace period is over; the next send (made in the background) is a probe.
    case failing
    /// The server answered 429; batches stay buffered and are retried on the next flush.
    case rateLimited
    /// The server refused a batch with another 4xx (e.g. 413, 400); that batch was split or dropped.
    case clientFailing(status: Int)
    /// No APM Server configured: record only.
    case disabled
}

/// A snapshot of the Forwarder's health and counters.
public struct ForwarderHealth: Sendable, Equatable {
    public var state: ForwarderState
    /// Consecutive failures (resets on a 202).
    public var consecutiveFailures: Int
    /// HTTP status of the last answer, nil after a network error or before any send.
    public var lastStatus: Int?
    public var lastError: String?
    /// Events and bytes accepted by the APM Server since start.
    public var sentEvents: Int
    public var sentBatches: Int
    /// Events the Forwarder gave up on (buffer full, refused by the server, shutdown), since start.
    public var droppedEvents: Int
    /// Agent requests refused because the buffer was full (the agent still got 202).
    public var droppedRequests: Int
    /// Events and uncompressed bytes held unsent right now (pending + retry).
    public var bufferedEvents: Int
    public var bufferedBytes: Int
    /// Events in a send that has not finished yet.
    public var inFlightEvents: Int
}
