import LanternStore

/// What the app must do after the state took an action, beyond redrawing.
public enum Effect: Sendable, Equatable {
    case none
    case quit
    case search(String, SearchDirection)
}

extension UIState {
    /// Applies an action. `snapshot` is what is on screen; `pageSize` is the number of list rows.
    public mutating func apply(_ action: Action, snapshot: DashboardSnapshot?, pageSize: Int) -> Effect {
        message = nil
        if liveMode == .paused, action.needsOtherRows {
            message = "paused: space resumes; tabs, search and filters need live data"
            return .none
        }
        switch action {
        case .quit:
            return .quit
        case .redraw:
            return .none
        case .toggleHelp:
            mode = mode == .help ? .list : .help
        case .back:
            switch mode {
            case .detail, .help, .filterMenu:
                mode = .list
                detailScroll = 0
            case .list:
                if search != nil { search = nil }
            }
        case .move(let n):
            if case .detail = mode {
                detailScroll = max(0, detailScroll + n)
            } else {
                navigate(snapshot, pageSize: pageSize) { $0 + n }
            }
        case .page(let n):
            if case .detail = mode {
                detailScroll = max(0, detailScroll + n * max(1, pageSize - 1))
            } else {
                navigate(snapshot, pageSize: pageSize) { $0 + n * max(1, pageSize) }
            }
        case .top:
            if case .detail = mode {
                detailScroll = 0
            } else if liveMode == .paused {
                position.cursor = 0
            } else {
                liveMode = .following
                position = ListPosition()
            }
        case .bottom:
            if liveMode == .paused {
                position.cursor = max(0, Self.shownRows(snapshot, pageSize) - 1)
            } else {
                liveMode = .scrolled
                position = ListPosition(anchor: .oldest, cursor: Int.max)
            }
        case .open:
            let cursor = position.cursor
            if let requestID = snapshot?.rows.requestID(at: cursor) {
                mode = .detail(requestID: requestID)
                detailScroll = 0
            } else if (snapshot?.rows.count ?? 0) > 0 {
                message = "no invocation for this row"
            }
        case .nextTab:
            switchTab(to: Tab(rawValue: (tab.rawValue + 1) % Tab.allCases.count)!)
        case .previousTab:
            switchTab(to: Tab(rawValue: (tab.rawValue + Tab.allCases.count - 1) % Tab.allCases.count)!)
        case .selectTab(let target):
            switchTab(to: target)
        case .togglePause:
            if liveMode == .paused {
                liveMode = .following
                position = ListPosition()
            } else if snapshot == nil {
                message = "nothing to pause yet"
            } else {
                // Nothing more to do: the app stops reading the store for the screen while paused.
                liveMode = .paused
            }
        case .beginSearch:
            searchInput = ""
        case .searchType(let c):
            searchInput?.append(c)
        case .searchErase:
            if searchInput?.isEmpty == false { searchInput?.removeLast() }
        case .searchCancel:
            searchInput = nil
        case .searchCommit:
            let term = searchInput ?? ""
            searchInput = nil
            guard !term.isEmpty else {
                search = nil
                return .none
            }
            search = term
            return .search(term, .older)
        case .searchNext:
            guard let search else {
                message = "no search: press / first"
                return .none
            }
            return .search(search, .older)
        case .searchPrevious:
            guard let search else {
                message = "no search: press / first"
                return .none
            }
            return .search(search, .newer)
        case .openFilter:
            if tab == .invocations {
                mode = .filterMenu
            } else {
                message = "filters apply to the Invocations tab"
            }
        case .cycleStatus:
            filter.status = Self.next(filter.status, in: InvocationStatus.allCases)
            resetPositionForFilter()
        case .cycleFlushReason:
            filter.flushReason = Self.next(filter.flushReason, in: FlushReasonChoice.all)
            resetPositionForFilter()
        case .toggleCold:
            filter.coldOnly.toggle()
            resetPositionForFilter()
        case .clearFilter:
            // The scope came from the command line (`--function`, `--environment`): it stays.
            filter = InvocationFilter(functionName: filter.functionName, environmentID: filter.environmentID)
            resetPositionForFilter()
        }
        return .none
    }

    /// Moves the cursor to `target(cursor)`. Moving stops following, so arriving rows never pull the selection
    /// away, but the data stays live. Paused, the cursor moves within the rows on screen: reading more rows
    /// would show what arrived since the pause.
    private mutating func navigate(_ snapshot: DashboardSnapshot?, pageSize: Int, to target: (Int) -> Int) {
        var p = position
        if liveMode == .paused {
            p.cursor = max(0, min(target(p.cursor), Self.shownRows(snapshot, pageSize) - 1))
        } else {
            liveMode = .scrolled
            p.cursor = target(p.cursor)
            // Within the window, say which row: rows arriving before the next read shift its index. Past the
            // window the store tail hops by the cursor and finds the row itself.
            let keys = snapshot?.rows.keys ?? []
            p.selection = keys.indices.contains(p.cursor) ? keys[p.cursor] : nil
        }
        position = p
    }

    /// The rows the list shows: the window, cut to the page (a terminal made smaller while paused).
    private static func shownRows(_ snapshot: DashboardSnapshot?, _ pageSize: Int) -> Int {
        min(snapshot?.rows.count ?? 0, max(1, pageSize))
    }

    private mutating func switchTab(to target: Tab) {
        tab = target
        mode = .list
        detailScroll = 0
        if following { position = ListPosition() }
    }

    private mutating func resetPositionForFilter() {
        positions[.invocations] = ListPosition()
    }

    /// nil → first → ... → last → nil.
    static func next<T: Equatable>(_ value: T?, in all: [T]) -> T? {
        guard let value, let i = all.firstIndex(of: value) else { return all.first }
        return i + 1 < all.count ? all[i + 1] : nil
    }

    /// Puts the cursor on a search match: inside the window when it is there, else the window moves to it.
    /// The list then stays on the match as rows arrive. Paused (a search answered after space), only a match
    /// on screen is selected.
    public mutating func select(_ key: RowKey, visible: [RowKey]) {
        let index = visible.firstIndex(of: key)
        if liveMode == .paused {
            if let index { position.cursor = index } else { message = "paused: the match is off screen; space resumes" }
            return
        }
        liveMode = .scrolled
        if let index {
            var p = position
            p.cursor = index
            p.selection = key
            position = p
        } else {
            position = ListPosition(anchor: .at(key), cursor: 0, selection: key)
        }
    }
}

extension Action {
    /// Whether the action shows rows the screen does not have (another tab, a filter, a search match):
    /// these wait while paused, since reading them would show what arrived since the pause.
    var needsOtherRows: Bool {
        switch self {
        case .nextTab, .previousTab, .selectTab, .beginSearch, .searchNext, .searchPrevious, .openFilter: true
        default: false
        }
    }
}

/// The flush reasons in the order `r` cycles through them.
enum FlushReasonChoice {
    static let all = FlushReason.allCases
}
