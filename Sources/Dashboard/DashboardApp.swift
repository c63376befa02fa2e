import Foundation

/// `lantern dash`: the loop that ties the terminal, the store tail, the key map and the screens together.
public struct DashboardApp {
    /// The store to show.
    public var path: String
    /// ASCII glyphs even on a UTF-8 terminal.
    public var ascii: Bool
    /// The shortest time between two header-total computations (they scan indexes).
    public var totalsInterval: Duration = .seconds(1)
    /// Only this function's environments, or only this environment (a fleet store holds many).
    public var functionName: String?
    public var environmentID: String?

    public init(path: String, ascii: Bool = false, functionName: String? = nil, environmentID: String? = nil) {
        self.path = path
        self.ascii = ascii
        self.functionName = functionName
        self.environmentID = environmentID
    }

    /// Runs until `q` or a stop signal. Returns the process exit status.
    public func run() -> Int32 {
        // A file that is not a store (or too new) is an error before the terminal is taken over.
        if let problem = StoreTail.probe(path: path), problem.code == .notLanternStore || problem.code == .newerSchema {
            FileHandle.standardError.write(Data("lantern dash: \(problem.message)\n".utf8))
            return 1
        }
        let terminal: Terminal
        do {
            terminal = try Terminal(ascii: ascii)
        } catch {
            FileHandle.standardError.write(Data("lantern dash: \(error.message)\n".utf8))
            return 1
        }
        var session = Session(path: path, renderer: ScreenRenderer(glyphs: terminal.glyphs),
                              totalsInterval: totalsInterval,
                              scope: StoreScope(functionName: functionName, environmentID: environmentID))
        session.state.filter.functionName = functionName
        session.state.filter.environmentID = environmentID
        let outcome = session.loop(terminal)
        terminal.restore()
        if case .failed(let message) = outcome {
            FileHandle.standardError.write(Data("lantern dash: \(message)\n".utf8))
            return 1
        }
        if case .stopped(let signal) = outcome { return 128 + signal }
        return 0
    }
}

/// How the loop ended.
enum SessionOutcome: Equatable {
    case quit
    case stopped(Int32)
    case failed(String)
}

/// One run of the dashboard: the state the loop carries between frames.
struct Session {
    let path: String
    let renderer: ScreenRenderer
    let totalsInterval: Duration
    /// The header's environments (the tabs' come with `state.filter`).
    let scope: StoreScope
    var state = UIState()
    var tail: StoreTail?
    var status: StoreStatus = .waiting("")
    var snapshot: DashboardSnapshot?
    var totals: HeaderTotals?
    var totalsStale = true
    /// The totals revision of `totals`: reopening the store marks the totals stale, and this spares a recount
    /// (a scan of every invocation, about 0.3 s of CPU per million) when nothing they count has changed.
    var totalsRevision: Int64?
    var lastTotalsStart: ContinuousClock.Instant?
    var lastOpenAttempt: ContinuousClock.Instant?
    var worker: TotalsWorker
    let searcher: SearchWorker
    var storeError: String?
    var lastChangeSeen = ContinuousClock.now

    init(path: String, renderer: ScreenRenderer, totalsInterval: Duration, scope: StoreScope = StoreScope()) {
        self.path = path
        self.renderer = renderer
        self.totalsInterval = totalsInterval
        self.scope = scope
        worker = TotalsWorker(path: path, scope: scope)
        searcher = SearchWorker(path: path)
    }

    mutating func loop(_ terminal: Terminal) -> SessionOutcome {
        var dirty = true
        while true {
            if let signal = terminal.stopRequested { return .stopped(signal) }
            if tail == nil {
                switch openIfPresent() {
                case .failed(let message): return .failed(message)
                case .opened: dirty = true
                case .waiting(let changed): dirty = dirty || changed
                }
            }
            if let tail {
                do {
                    if try tail.hasChanged() {
                        // Paused, a commit changes nothing on screen; the totals are counted all the same, ready
                        // for the end of the pause.
                        if state.liveMode != .paused { dirty = true }
                        totalsStale = true
                        lastChangeSeen = .now
                    } else if ContinuousClock.now - lastChangeSeen > .seconds(2) {
                        // When the last writer closes (an execution environment's collector exits) and a new one
                        // opens the store, a long-lived read connection can keep a stale view of the WAL and never
                        // see another commit. Reopening after a quiet spell is cheap: only the visible rows are read.
                        self.tail = nil
                        lastChangeSeen = .now
                        continue
                    }
                } catch {
                    // A read connection can be left unusable when writers come and go (each execution
                    // environment's collector opens, checkpoints and closes the store): reopen it.
                    storeError = error.message
                    self.tail = nil
                    dirty = true
                    continue
                }
                refreshTotals(&dirty)
                applySearchAnswer(&dirty)
            }
            if dirty {
                let (width, height) = terminal.size
                redraw(terminal, width: width, height: height)
                dirty = false
            }
            guard let key = terminal.readKey() else { continue }
            guard let action = KeyMap.action(for: key, in: state) else { continue }
            let (_, height) = terminal.size
            let pageSize = ScreenRenderer.pageSize(forHeight: height)
            switch state.apply(action, snapshot: snapshot, pageSize: pageSize) {
            case .quit: return .quit
            case .none: break
            case .search(let term, let direction): search(term, direction)
            }
            if action == .redraw, key != .resize { terminal.forceFullRedraw() }
            dirty = true
        }
    }

    private enum OpenResult {
        case opened
        case waiting(changed: Bool)
        case failed(String)
    }

    /// Opens the store once it exists and has its schema; checks a few times a second.
    private mutating func openIfPresent() -> OpenResult {
        let now = ContinuousClock.now
        if let last = lastOpenAttempt, now - last < .milliseconds(250) { return .waiting(changed: false) }
        lastOpenAttempt = now
        do {
            tail = try StoreTail(path: path, scope: scope)
            status = .open
            totalsStale = true
            return .opened
        } catch {
            switch error.code {
            case .notLanternStore, .newerSchema: return .failed(error.message)
            default:
                let message =
                    error.code == .storeMissing
                    ? "No store at \(path) yet. Start the emulator or the collector (or pass --db PATH)."
                    : error.message
                let next = StoreStatus.waiting(message)
                defer { status = next }
                return .waiting(changed: next != status)
            }
        }
    }

    private mutating func refreshTotals(_ dirty: inout Bool) {
        if let result = worker.take() {
            switch result {
            case .success(.counted(let fresh, let revision)):
                totals = fresh
                totalsRevision = revision
                dirty = true
            case .success(.unchanged):
                break
            case .failure(let error):
                storeError = error.message
                dirty = true
            }
        }
        guard totalsStale, !worker.isRunning else { return }
        let now = ContinuousClock.now
        if let last = lastTotalsStart, now - last < totalsInterval { return }
        if worker.start(unlessAt: totals == nil ? nil : totalsRevision) {
            totalsStale = false
            lastTotalsStart = now
        }
    }

    private mutating func redraw(_ terminal: Terminal, width: Int, height: Int) {
        refresh(pageSize: ScreenRenderer.pageSize(forHeight: height))
        if let storeError, state.message == nil { state.message = "store: \(storeError)" }
        terminal.draw(renderer.render(snapshot, state, width: width, height: height, storePath: path, status: status))
    }

    /// Reads what the screen shows for `state` into `snapshot`. Paused, the list and the header stay as they were
    /// when space was pressed: only an invocation opened since (Enter) is read, and the cursor is kept on the rows
    /// shown (the terminal may have become smaller).
    mutating func refresh(pageSize: Int) {
        if state.liveMode == .paused, var frozen = snapshot {
            if case .detail(let requestID) = state.mode, frozen.detail?.row.requestID != requestID, let tail {
                do {
                    frozen.detail = try tail.detail(requestID: requestID)
                } catch {
                    storeError = error.message
                    self.tail = nil
                }
            }
            snapshot = frozen
            state.position.cursor = max(0, min(state.position.cursor, min(frozen.rows.count, max(1, pageSize)) - 1))
            return
        }
        guard let tail else { return }
        do {
            var next = try tail.snapshot(state: &state, pageSize: pageSize)
            next.header.totals = totals
            snapshot = next
            storeError = nil
        } catch {
            storeError = error.message
            self.tail = nil  // reopened on the next pass of the loop
        }
    }

    /// Starts the search in the background: a term that matches nothing reads the whole tab, and the list must
    /// keep answering keys meanwhile. The answer is applied by `applySearchAnswer` when it comes.
    private mutating func search(_ term: String, _ direction: SearchDirection) {
        guard tail != nil, let snapshot else { return }
        let keys = snapshot.rows.keys
        let from = keys.indices.contains(state.position.cursor) ? keys[state.position.cursor] : nil
        searcher.start(SearchRequest(term: term, direction: direction, tab: state.tab, filter: state.filter), in: state, from: from)
        state.message = "searching for \"\(term)\"…"
    }

    /// A search answer for the list still on screen selects its row (or says there is none); one for a tab or
    /// filter the user has left since is dropped.
    private mutating func applySearchAnswer(_ dirty: inout Bool) {
        guard let (request, result) = searcher.take() else { return }
        guard request.tab == state.tab, request.filter == state.filter else { return }
        dirty = true
        switch result {
        case .success(.some(let match)):
            state.message = nil
            state.select(match, visible: snapshot?.rows.keys ?? [])
        case .success(.none):
            state.message = "no \(request.direction == .older ? "older" : "newer") match for \"\(request.term)\""
        case .failure(let error):
            state.message = "search failed: \(error.message)"
        }
    }
}
