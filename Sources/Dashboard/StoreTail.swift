import Foundation
import LanternStore

/// The dashboard's reader of a Lantern store: opens it read-only, checks it is one, notices commits through
/// `PRAGMA data_version`, and reads only what the screen shows (one window of rows, found by keyset).
public final class StoreTail {
    public let path: String
    /// The environments the header covers (the whole store unless `--function`/`--environment`).
    public let scope: StoreScope
    let database: ReadOnlyDatabase
    private var lastDataVersion: Int64?

    /// Opens the store at `path`. Throws `storeMissing`, `storeNotReady`, `notLanternStore` or `newerSchema`.
    public init(path: String, scope: StoreScope = StoreScope()) throws(DashboardError) {
        self.path = path
        self.scope = scope
        try StoreTail.checkFile(path)
        database = try ReadOnlyDatabase(path: path)
        try StoreTail.checkSchema(database)
    }

    /// Whether the store exists and is a Lantern store this build can read, without keeping it open.
    public static func probe(path: String) -> DashboardError? {
        do {
            _ = try StoreTail(path: path)
            return nil
        } catch {
            return error
        }
    }

    private static func checkFile(_ path: String) throws(DashboardError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw DashboardError(.storeMissing, "no store at \(path) yet")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw DashboardError(.notLanternStore, "\(path) is a directory, not a Lantern store")
        }
        if info.st_size == 0 {
            throw DashboardError(.storeNotReady, "\(path) is empty: the writer has not created the schema yet")
        }
        // SQLite files start with this header; anything else is not a store (say so before SQLite does).
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DashboardError(.notLanternStore, "\(path) cannot be read")
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 16)) ?? Data()
        if head.count >= 16, head != Data("SQLite format 3\u{0}".utf8) {
            throw DashboardError(.notLanternStore, "\(path) is not a Lantern store (not an SQLite database)")
        }
    }

    /// Validates with the store's own rules (`History` refuses what is not a readable Lantern store), but
    /// treats a file the writer is still creating as "not ready" rather than "not a store".
    private static func checkSchema(_ database: ReadOnlyDatabase) throws(DashboardError) {
        let path = database.path
        let identity = try? database.first("SELECT (SELECT application_id FROM pragma_application_id), "
            + "(SELECT count(*) FROM sqlite_master)") { ($0.int(0), $0.int(1)) }
        if let identity, identity.0 == 0, identity.1 == 0 {
            throw DashboardError(.storeNotReady, "\(path) is still empty: the writer is creating the store")
        }
        do throws(StoreError) {
            try History(path: path).close()
        } catch {
            switch error.code {
            case .notAStore: throw DashboardError(.notLanternStore, error.message)
            case .newerSchema: throw DashboardError(.newerSchema, error.message)
            case .olderSchema: throw DashboardError(.storeNotReady, error.message)
            case .cannotOpen: throw DashboardError(.storeMissing, error.message)
            default: throw DashboardError(.sqlite, error.message)
            }
        }
    }

    /// True when another connection committed since the last call (and on the first call).
    public func hasChanged() throws(DashboardError) -> Bool {
        let version = try database.dataVersion()
        defer { lastDataVersion = version }
        return version != lastDataVersion
    }

    /// Reads what the screen needs for `state`, with `pageSize` rows in the list. Moves the position in `state`
    /// when the cursor left the window (scrolling), when rows arriving above the selected row moved it (scrolled),
    /// or when the window must be pinned (paused), and notes which row is selected.
    public func snapshot(state: inout UIState, pageSize: Int) throws(DashboardError) -> DashboardSnapshot {
        let size = max(1, pageSize)
        let query = TabQuery.forTab(state.tab)
        var position = state.position
        if state.following { position.anchor = .newest }
        var window = try fetchWindow(query, state: state, anchor: position.anchor, size: size)
        if state.liveMode == .scrolled, let selected = position.selection {
            window = try keep(selected, in: window, position: &position, query, state: state, size: size)
        } else if position.cursor >= window.rows.count, window.hasOlder, let top = window.rows.first {
            // The cursor left the window: move the anchor by that many rows (a short keyset + OFFSET hop).
            let shift = position.cursor - (size - 1)
            if let key = try hop(query, state: state, from: top, by: shift) {
                position.anchor = .at(key)
                position.cursor = size - 1
            } else {
                position.anchor = .oldest
            }
            window = try fetchWindow(query, state: state, anchor: position.anchor, size: size)
        } else if position.cursor < 0, let top = window.rows.first {
            if let key = try hop(query, state: state, from: top, by: position.cursor) {
                position.anchor = .at(key)
            } else {
                position.anchor = .newest
            }
            position.cursor = 0
            window = try fetchWindow(query, state: state, anchor: position.anchor, size: size)
        }
        if position.anchor == .oldest, position.cursor == Int.max { position.cursor = window.rows.count - 1 }
        position.cursor = max(0, min(position.cursor, window.rows.count - 1))
        // Paused (the app reads nothing then, but a caller may): pin the window so arriving rows show nowhere.
        if state.liveMode == .paused, position.anchor == .newest || position.anchor == .oldest,
            let top = window.rows.first
        {
            position.anchor = .at(top)
        }
        position.selection = window.rows.indices.contains(position.cursor) ? window.rows[position.cursor] : nil
        state.position = position

        var header = HeaderSnapshot(storePath: path)
        header.environments = try environments()
        header.lastFlush = try lastFlush()
        if header.environments.contains(where: \.isManagedInstances) { header.inFlightNow = try inFlightNow() }
        var detail: InvocationDetail?
        if case .detail(let requestID) = state.mode { detail = try self.detail(requestID: requestID) }
        return DashboardSnapshot(
            header: header, rows: query.decode(window.values), hasOlder: window.hasOlder,
            hasNewer: window.hasNewer, detail: detail)
    }

    private struct Window {
        var values: [TabRowValue]
        var rows: [RowKey]
        var hasOlder: Bool
        var hasNewer: Bool
    }

    private func fetchWindow(_ q: TabQuery, state: UIState, anchor: Anchor, size: Int) throws(DashboardError)
        -> Window
    {
        let filter = q.filter(state)
        let count = Int32(q.columns.split(separator: ",").count)
        var values: [TabRowValue]
        var hasOlder = false
        var hasNewer = false
        switch anchor {
        case .newest, .at:
            var conditions = filter.sql
            var bindings = filter.bindings
            if case .at(let key) = anchor {
                conditions.append("(\(q.timeColumn), rowid) <= (?, ?)")
                bindings += [.integer(key.time), .integer(key.rowid)]
            }
            let sql = q.windowSQL(conditions, oldestFirst: false, limit: size + 1)
            values = try database.query(sql, bindings) { TabRowValue($0, columns: count) }
            if values.count > size {
                hasOlder = true
                values.removeLast()
            }
            if case .at(let key) = anchor {
                if values.isEmpty { return try fetchWindow(q, state: state, anchor: .newest, size: size) }
                let newer = """
                    SELECT 1 FROM \(q.table) WHERE \(filter.sql.joined(separator: " AND "))
                    AND (\(q.timeColumn), rowid) > (?, ?) LIMIT 1
                    """
                hasNewer = try !database.query(newer, filter.bindings + [.integer(key.time), .integer(key.rowid)]) { _ in 1 }
                    .isEmpty
            }
        case .oldest:
            let sql = q.windowSQL(filter.sql, oldestFirst: true, limit: size + 1)
            values = try database.query(sql, filter.bindings) { TabRowValue($0, columns: count) }
            if values.count > size {
                hasNewer = true
                values.removeLast()
            }
            values.reverse()
        }
        return Window(values: values, rows: values.map(\.key), hasOlder: hasOlder, hasNewer: hasNewer)
    }

    /// Scrolled: finds the selected row again after rows arrived (or were pruned). A window at the newest rows
    /// stays there, so arrivals show on top and push the selection down the screen; once they would push it out,
    /// the window is pinned with the selected row at the bottom and the rows just newer above it.
    private func keep(_ selected: RowKey, in window: Window, position: inout ListPosition, _ q: TabQuery,
                      state: UIState, size: Int) throws(DashboardError) -> Window
    {
        if let index = window.rows.firstIndex(of: selected) {
            position.cursor = index
            return window
        }
        guard let last = window.rows.last, selected < last, window.hasOlder else {
            position.cursor = Self.place(of: selected, in: window.rows)
            return window
        }
        let top = size > 1 ? try hop(q, state: state, from: selected, by: -(size - 1)) : selected
        position.anchor = top.map { .at($0) } ?? .newest
        let pinned = try fetchWindow(q, state: state, anchor: position.anchor, size: size)
        position.cursor = Self.place(of: selected, in: pinned.rows)
        return pinned
    }

    /// The index of `key` in `rows` (newest first); for a row no longer there (pruned), its older neighbour's.
    private static func place(of key: RowKey, in rows: [RowKey]) -> Int {
        rows.firstIndex { $0 <= key } ?? max(0, rows.count - 1)
    }

    /// The key `by` rows older (positive) or newer (negative) than `from`, or nil past the end.
    private func hop(_ q: TabQuery, state: UIState, from: RowKey, by: Int) throws(DashboardError) -> RowKey? {
        let filter = q.filter(state)
        let older = by > 0
        let sql = """
            SELECT \(q.timeColumn), rowid FROM \(q.table) WHERE \(filter.sql.joined(separator: " AND "))
            AND (\(q.timeColumn), rowid) \(older ? "<=" : ">") (?, ?)
            ORDER BY \(q.timeColumn) \(older ? "DESC" : "ASC"), rowid \(older ? "DESC" : "ASC")
            LIMIT 1 OFFSET \(older ? by : -by - 1)
            """
        return try database.first(sql, filter.bindings + [.integer(from.time), .integer(from.rowid)]) {
            RowKey(time: $0.int(0), rowid: $0.int(1))
        }
    }

    /// The next row after `from` (exclusive) whose searchable columns contain `term`, in `direction`.
    public func find(_ term: String, in state: UIState, from: RowKey?, direction: SearchDirection)
        throws(DashboardError) -> RowKey?
    {
        let q = TabQuery.forTab(state.tab)
        let filter = q.filter(state)
        var conditions = filter.sql
        var bindings = filter.bindings
        let like = "%" + term.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
        conditions.append("(" + q.searchColumns.map { "\($0) LIKE ? ESCAPE '\\'" }.joined(separator: " OR ") + ")")
        bindings += q.searchColumns.map { _ in .text(like) }
        let older = direction == .older
        if let from {
            conditions.append("(\(q.timeColumn), rowid) \(older ? "<" : ">") (?, ?)")
            bindings += [.integer(from.time), .integer(from.rowid)]
        }
        let order = older ? "DESC" : "ASC"
        let sql = """
            SELECT \(q.timeColumn), rowid FROM \(q.table) WHERE \(conditions.joined(separator: " AND "))
            ORDER BY \(q.timeColumn) \(order), rowid \(order) LIMIT 1
            """
        return try database.first(sql, bindings) { RowKey(time: $0.int(0), rowid: $0.int(1)) }
    }

    /// The newest environments (the header shows a few).
    func environments(limit: Int = 4) throws(DashboardError) -> [EnvironmentSummary] {
        try database.query(
            """
            SELECT id, function_name, memory_mb, source, telemetry, shutdown_reason, initialization_type,
            max_concurrency FROM environments\(scope.environmentRowCondition.map { " WHERE " + $0 } ?? "")
            ORDER BY coalesce(started_at, registered_at, 0) DESC, rowid DESC LIMIT \(limit)
            """, scope.bindings
        ) {
            EnvironmentSummary(
                id: $0.text(0) ?? "", functionName: $0.text(1), memoryMB: $0.optionalInteger(2), source: $0.text(3),
                telemetry: $0.text(4), shutdownReason: $0.text(5), initializationType: $0.text(6),
                maxConcurrency: $0.optionalInteger(7))
        }
    }

    func lastFlush() throws(DashboardError) -> LastFlush? {
        try database.first(
            "SELECT started_at, outcome, http_status, error FROM flushes\(scope.clause(after: false)) ORDER BY started_at DESC, id DESC LIMIT 1",
            scope.bindings
        ) {
            LastFlush(at: $0.int(0), outcome: $0.text(1) ?? "", httpStatus: $0.optionalInteger(2), error: $0.text(3))
        }
    }

    /// One invocation with its proxy, flushes and log lines.
    public func detail(requestID: String) throws(DashboardError) -> InvocationDetail? {
        let q = TabQuery.invocations
        let sql = """
            SELECT \(q.columns), environment_id, function_arn, trace_id, deadline_at, started_at, response_at,
            agent_flushed_at, billed_duration_ms, init_duration_ms, report_status, produced_bytes, agent_events,
            agent_bytes, log_lines, transaction_id
            FROM invocations WHERE request_id = ?
            """
        let base = Int32(q.columns.split(separator: ",").count)
        let found = try database.first(sql, [.text(requestID)]) { row -> InvocationDetail in
            var d = InvocationDetail(row: TabRowValue(row, columns: base).invocation)
            d.environmentID = row.text(base)
            d.functionARN = row.text(base + 1)
            d.traceID = row.text(base + 2)
            d.deadlineAt = row.optionalInt(base + 3)
            d.startedAt = row.optionalInt(base + 4)
            d.responseAt = row.optionalInt(base + 5)
            d.agentFlushedAt = row.optionalInt(base + 6)
            d.billedDurationMs = row.optionalInteger(base + 7)
            d.initDurationMs = row.double(base + 8)
            d.reportStatus = row.text(base + 9)
            d.producedBytes = row.optionalInteger(base + 10)
            d.agentEvents = row.optionalInteger(base + 11) ?? 0
            d.agentBytes = row.optionalInteger(base + 12) ?? 0
            d.logLineCount = row.optionalInteger(base + 13) ?? 0
            d.transactionID = row.text(base + 14)
            return d
        }
        guard var detail = found else { return nil }
        if detail.row.isManagedInstances, let environment = detail.environmentID {
            detail.maxConcurrency = try maxConcurrency(environmentID: environment)
            (detail.overlaps, detail.overlapCount) = try overlaps(of: detail)
        }
        let p = TabQuery.proxies
        let pc = Int32(p.columns.split(separator: ",").count)
        detail.proxy = try database.first(
            "SELECT \(p.columns) FROM proxy_transactions WHERE request_id = ?", [.text(requestID)]
        ) { TabRowValue($0, columns: pc).proxy }
        let f = TabQuery.flushes
        let fc = Int32(f.columns.split(separator: ",").count)
        detail.flushes = try database.query(
            "SELECT \(f.columns) FROM flushes WHERE request_id = ? ORDER BY started_at, id LIMIT 50", [.text(requestID)]
        ) { TabRowValue($0, columns: fc).flush }
        let l = TabQuery.logs
        let lc = Int32(l.columns.split(separator: ",").count)
        detail.logs = try database.query(
            "SELECT \(l.columns) FROM log_records WHERE request_id = ? ORDER BY at, id LIMIT 500", [.text(requestID)]
        ) { TabRowValue($0, columns: lc).log }
        return detail
    }

    /// The newest revision among the rows the totals count (the Recorder stamps every row it writes with the
    /// revision of its transaction): unchanged means the totals are too. A few index lookups.
    public func totalsRevision() throws(DashboardError) -> Int64 {
        try database.first(
            """
            SELECT max((SELECT coalesce(max(rev), 0) FROM invocations),
                (SELECT coalesce(max(rev), 0) FROM proxy_transactions), (SELECT coalesce(max(rev), 0) FROM shutdowns),
                (SELECT coalesce(max(rev), 0) FROM flushes))
            """
        ) { $0.int(0) } ?? 0
    }

    /// Store-wide totals. These scan indexes (about 0.3 s of CPU per million invocations), so the app runs them
    /// on their own connection off the UI thread, and only when `totalsRevision()` moved.
    public func totals() throws(DashboardError) -> HeaderTotals {
        var t = HeaderTotals()
        let all = scope.clause(after: false), and = scope.clause(after: true), b = scope.bindings
        for (status, count) in try database.query(
            "SELECT status, count(*) FROM invocations\(all) GROUP BY status", b, { ($0.text(0), Int($0.int(1))) })
        {
            t.invocations += count
            if let status { t.byStatus[status] = count }
        }
        for (reason, count) in try database.query(
            "SELECT flush_reason, count(*) FROM invocations\(all) GROUP BY flush_reason", b,
            { ($0.text(0), Int($0.int(1))) })
        {
            if let reason { t.byFlushReason[reason] = count }
        }
        t.coldStarts = try database.first("SELECT count(*) FROM invocations WHERE cold_start = 1\(and)", b) { Int($0.int(0)) } ?? 0
        t.proxies = try database.first("SELECT count(*) FROM proxy_transactions\(all)", b) { Int($0.int(0)) } ?? 0
        t.shutdowns = try database.first("SELECT count(*) FROM shutdowns\(all)", b) { Int($0.int(0)) } ?? 0
        t.flushesFailed =
            try database.first("SELECT count(*) FROM flushes WHERE outcome = 'failed'\(and)", b) { Int($0.int(0)) } ?? 0
        if let dropped = try database.first(
            "SELECT count(*), coalesce(sum(events), 0) FROM flushes WHERE outcome = 'dropped'\(and)",
            b, { (Int($0.int(0)), Int($0.int(1))) })
        {
            t.batchesDropped = dropped.0
            t.eventsDropped = dropped.1
        }
        // The detail of a records_dropped event starts with the number of records.
        t.recordsDropped = try database.first(
            "SELECT coalesce(sum(CAST(detail AS INTEGER)), 0) FROM lifecycle_events WHERE kind = 'records_dropped'\(and)", b
        ) { Int($0.int(0)) } ?? 0
        // The size bound's prunes are the store's, whatever the scope.
        t.prunedInvocations = try database.first("SELECT coalesce(sum(invocations), 0) FROM store_prunes") { Int($0.int(0)) } ?? 0
        t.concurrency = try concurrencyTotals()
        return t
    }
}
