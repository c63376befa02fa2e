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
                navigate { $0.cursor += n }
            }
        case .page(let n):
            if case .detail = mode {
                detailScroll = max(0, detailScroll + n * max(1, pageSize - 1))
            } else {
                navigate { $0.cursor += n * max(1, pageSize) }
            }
        case .top:
            if case .detail = mode {
                detailScroll = 0
            } else {
                position = ListPosition(anchor: .newest, cursor: 0)
            }
        case .bottom:
            following = false
            position = ListPosition(anchor: .oldest, cursor: Int.max)
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
            following.toggle()
            if following { position = ListPosition(anchor: .newest, cursor: 0) }
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
            filter = InvocationFilter()
            resetPositionForFilter()
        }
        return .none
    }

    /// Moves within the list; moving pauses following so arriving rows do not pull the selection away.
    private mutating func navigate(_ change: (inout ListPosition) -> Void) {
        following = false
        var p = position
        change(&p)
        position = p
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
    public mutating func select(_ key: RowKey, visible: [RowKey]) {
        following = false
        if let index = visible.firstIndex(of: key) {
            var p = position
            p.cursor = index
            position = p
        } else {
            position = ListPosition(anchor: .at(key), cursor: 0)
        }
    }
}

/// The flush reasons in the order `r` cycles through them.
enum FlushReasonChoice {
    static let all = FlushReason.allCases
}
