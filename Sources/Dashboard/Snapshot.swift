import LanternStore

/// The position of a row in a list ordered newest first: its time column, then its rowid.
/// Ordered as the keyset is: a smaller key is an older row.
public struct RowKey: Sendable, Equatable, Hashable, Comparable {
    public var time: Int64
    public var rowid: Int64

    public init(time: Int64, rowid: Int64) {
        self.time = time
        self.rowid = rowid
    }

    public static func < (a: RowKey, b: RowKey) -> Bool { (a.time, a.rowid) < (b.time, b.rowid) }
}

/// One row of the Invocations tab.
public struct InvocationListRow: Sendable, Equatable {
    public var key: RowKey
    public var requestID: String
    public var invokedAt: Int64?
    public var timeoutMs: Int?
    public var coldStart: Bool
    public var status: String?
    public var errorType: String?
    public var runtimeDurationMs: Double?
    public var durationMs: Double?
    public var runtimeDoneAt: Int64?
    public var releasedAt: Int64?
    public var flushReason: String?
    public var memorySizeMB: Int?
    public var maxMemoryUsedMB: Int?
    public var hasProxy: Bool
    /// Managed Instances: how many invocations were in flight when this one started, itself included.
    /// Nil on classic Lambda, where an environment runs one invocation at a time.
    public var inFlight: Int?

    public init(key: RowKey, requestID: String) {
        self.key = key
        self.requestID = requestID
        self.coldStart = false
        self.hasProxy = false
    }

    /// Handler time: the runtime's own figure, else the report's duration, else start to runtimeDone.
    public var handlerMs: Double? {
        if let runtimeDurationMs { return runtimeDurationMs }
        if let durationMs { return durationMs }
        if let invokedAt, let runtimeDoneAt { return Double(runtimeDoneAt - invokedAt) / 1000 }
        return nil
    }

    /// Whether the invocation ran on Lambda Managed Instances (several at once in one environment, ended by
    /// its `platform.report`). The collector writes `in_flight` at the start, `report` at the end.
    public var isManagedInstances: Bool { inFlight != nil || flushReason == FlushReason.report.rawValue }

    /// How long the extension held the environment after the runtime was done. Managed Instances hold nothing
    /// (the environment never freezes, nothing is released), so there is no such time to show.
    public var postRuntimeMs: Double? {
        guard !isManagedInstances, let runtimeDoneAt, let releasedAt, releasedAt >= runtimeDoneAt else { return nil }
        return Double(releasedAt - runtimeDoneAt) / 1000
    }
}

/// One row of the Proxies tab.
public struct ProxyListRow: Sendable, Equatable {
    public var key: RowKey
    public var requestID: String
    public var transactionID: String
    public var traceID: String?
    public var result: String?
    public var outcome: String?
    public var durationMs: Double?
    public var trigger: String
    public var createdAt: Int64
    public var forwardedAt: Int64?
}

/// One row of the Shutdowns tab.
public struct ShutdownListRow: Sendable, Equatable {
    public var key: RowKey
    public var environmentID: String?
    public var receivedAt: Int64
    public var reason: String
    public var pendingInvocations: Int
    public var proxiesCreated: Int
    public var flushOutcome: String?
    public var flushDurationMs: Double?
    public var exitedAt: Int64?
}

/// One row of the Flushes tab.
public struct FlushListRow: Sendable, Equatable {
    public var key: RowKey
    public var requestID: String?
    public var startedAt: Int64
    public var trigger: String
    public var events: Int
    public var bytes: Int
    public var httpStatus: Int?
    public var outcome: String
    public var durationMs: Double?
    public var attempt: Int
    public var error: String?
}

/// One row of the Logs tab.
public struct LogListRow: Sendable, Equatable {
    public var key: RowKey
    public var requestID: String?
    public var at: Int64
    public var source: String
    public var level: String?
    public var message: String
}

/// One row of the Events tab (the collector's own life).
public struct EventListRow: Sendable, Equatable {
    public var key: RowKey
    public var environmentID: String?
    public var at: Int64
    public var kind: String
    public var name: String?
    public var detail: String?
}

/// The rows of the visible window of one tab.
public enum TabRows: Sendable, Equatable {
    case invocations([InvocationListRow])
    case proxies([ProxyListRow])
    case shutdowns([ShutdownListRow])
    case flushes([FlushListRow])
    case logs([LogListRow])
    case events([EventListRow])

    /// How many rows the window holds.
    public var count: Int {
        switch self {
        case .invocations(let r): r.count
        case .proxies(let r): r.count
        case .shutdowns(let r): r.count
        case .flushes(let r): r.count
        case .logs(let r): r.count
        case .events(let r): r.count
        }
    }

    /// The key of each row, top to bottom.
    public var keys: [RowKey] {
        switch self {
        case .invocations(let r): r.map(\.key)
        case .proxies(let r): r.map(\.key)
        case .shutdowns(let r): r.map(\.key)
        case .flushes(let r): r.map(\.key)
        case .logs(let r): r.map(\.key)
        case .events(let r): r.map(\.key)
        }
    }

    /// The request id a row belongs to, if any (Enter opens that invocation).
    public func requestID(at index: Int) -> String? {
        switch self {
        case .invocations(let r): r.indices.contains(index) ? r[index].requestID : nil
        case .proxies(let r): r.indices.contains(index) ? r[index].requestID : nil
        case .flushes(let r): r.indices.contains(index) ? r[index].requestID : nil
        case .logs(let r): r.indices.contains(index) ? r[index].requestID : nil
        case .shutdowns, .events: nil
        }
    }
}

/// One execution environment as the header shows it.
public struct EnvironmentSummary: Sendable, Equatable {
    public var id: String
    public var functionName: String?
    public var memoryMB: Int?
    public var source: String?
    public var telemetry: String?
    public var shutdownReason: String?
    /// `platform.initStart`'s initialization type (`on-demand`, `lambda-managed-instances`, ...).
    public var initializationType: String? = nil
    /// Managed Instances: how many invocations the environment may run at once.
    public var maxConcurrency: Int? = nil

    /// Whether the environment runs several invocations at once (Lambda Managed Instances).
    public var isManagedInstances: Bool {
        initializationType == EnvironmentSummary.managedInstancesType || maxConcurrency != nil
    }

    /// The initialization type Lambda reports for Managed Instances.
    public static let managedInstancesType = "lambda-managed-instances"
}

/// Store-wide totals for the header. Computed off the UI thread because they scan indexes.
public struct HeaderTotals: Sendable, Equatable {
    public var invocations: Int = 0
    public var coldStarts: Int = 0
    public var byStatus: [String: Int] = [:]
    public var byFlushReason: [String: Int] = [:]
    public var proxies: Int = 0
    public var shutdowns: Int = 0
    public var flushesFailed: Int = 0
    public var batchesDropped: Int = 0
    public var eventsDropped: Int = 0
    /// Records the store could not keep (the Recorder's `records_dropped` events) and invocations its size bound pruned.
    public var recordsDropped: Int = 0
    public var prunedInvocations: Int = 0
    /// Managed Instances only (nil when the store has no such environment): the peak in flight and the recent
    /// in-flight strip.
    public var concurrency: ConcurrencyTotals?

    public init() {}
}

/// The newest send to the APM Server.
public struct LastFlush: Sendable, Equatable {
    public var at: Int64
    public var outcome: String
    public var httpStatus: Int?
    public var error: String?
}

/// Everything the header shows; cheap parts are read every frame, totals when the store changed.
public struct HeaderSnapshot: Sendable, Equatable {
    public var storePath: String
    public var environments: [EnvironmentSummary] = []
    public var totals: HeaderTotals?
    public var lastFlush: LastFlush?
    /// Invocations of live Managed Instances environments started and not ended yet; nil when no environment
    /// shown runs on Managed Instances (classic Lambda has at most one, and the list says which).
    public var inFlightNow: Int?

    public init(storePath: String) { self.storePath = storePath }
}

/// One point on an invocation's timeline.
public struct TimelinePoint: Sendable, Equatable {
    public var label: String
    public var at: Int64?
}

/// Everything the detail view of one invocation shows.
public struct InvocationDetail: Sendable, Equatable {
    public var row: InvocationListRow
    public var environmentID: String?
    public var functionARN: String?
    public var traceID: String?
    public var deadlineAt: Int64?
    public var startedAt: Int64?
    public var responseAt: Int64?
    public var agentFlushedAt: Int64?
    public var billedDurationMs: Int?
    public var initDurationMs: Double?
    public var reportStatus: String?
    public var producedBytes: Int?
    public var agentEvents: Int = 0
    public var agentBytes: Int = 0
    public var logLineCount: Int = 0
    public var transactionID: String?
    public var proxy: ProxyListRow?
    public var flushes: [FlushListRow] = []
    public var logs: [LogListRow] = []
    /// Managed Instances: the environment's maximum concurrency, and the invocations that ran at the same time
    /// as this one (the first few, by start) out of `overlapCount`.
    public var maxConcurrency: Int?
    public var overlaps: [OverlappingInvocation] = []
    public var overlapCount: Int = 0

    public init(row: InvocationListRow) { self.row = row }

    /// When a Managed Instances invocation ended: its start plus the report's duration.
    public var endedAt: Int64? {
        guard let start = row.invokedAt, let duration = row.durationMs else { return nil }
        return start + Int64((duration * 1000).rounded())
    }

    /// Classic: INVOKE received → platform.start → runtimeDone → agent flush → released, in that order.
    /// Managed Instances have no INVOKE event, no runtimeDone and no release: platform.start → response →
    /// agent flush → platform.report (the end the report's duration gives).
    public var timeline: [TimelinePoint] {
        if row.isManagedInstances {
            return [
                TimelinePoint(label: "platform.start", at: row.invokedAt),
                TimelinePoint(label: "response", at: responseAt),
                TimelinePoint(label: "agent flush", at: agentFlushedAt),
                TimelinePoint(label: "platform.report", at: endedAt),
            ]
        }
        return [
            TimelinePoint(label: "INVOKE received", at: row.invokedAt),
            TimelinePoint(label: "platform.start", at: startedAt),
            TimelinePoint(label: "runtimeDone", at: row.runtimeDoneAt),
            TimelinePoint(label: "agent flush", at: agentFlushedAt),
            TimelinePoint(label: "released", at: row.releasedAt),
        ]
    }
}

/// What the store looks like right now, as far as the screen needs it.
public struct DashboardSnapshot: Sendable, Equatable {
    public var header: HeaderSnapshot
    public var rows: TabRows
    /// Whether a row exists below the window (older), so the footer can say "more".
    public var hasOlder: Bool
    /// Whether a row exists above the window (newer).
    public var hasNewer: Bool
    public var detail: InvocationDetail?

    public init(header: HeaderSnapshot, rows: TabRows, hasOlder: Bool = false, hasNewer: Bool = false,
                detail: InvocationDetail? = nil) {
        self.header = header
        self.rows = rows
        self.hasOlder = hasOlder
        self.hasNewer = hasNewer
        self.detail = detail
    }
}
