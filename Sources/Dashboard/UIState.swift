import LanternStore

/// The six tabs, in key order (1–6).
public enum Tab: Int, Sendable, CaseIterable {
    case invocations, proxies, shutdowns, flushes, logs, events

    /// The tab's name in the tab bar.
    public var title: String {
        switch self {
        case .invocations: "Invocations"
        case .proxies: "Proxies"
        case .shutdowns: "Shutdowns"
        case .flushes: "Flushes"
        case .logs: "Logs"
        case .events: "Events"
        }
    }
}

/// Where the window of a list starts.
public enum Anchor: Sendable, Equatable {
    /// The newest rows (follow mode keeps the window here).
    case newest
    /// The oldest rows (the last page).
    case oldest
    /// Pinned at a row: it is the window's top row.
    case at(RowKey)
}

/// The scroll position and selection of one tab's list.
public struct ListPosition: Sendable, Equatable {
    public var anchor: Anchor = .newest
    /// The selected row's index in the window. May be out of range until the store tail scrolls.
    public var cursor: Int = 0
    /// The selected row itself, once read. While scrolled, rows arriving above it shift its index, so the
    /// store tail finds it again by this key. nil: `cursor` says which row (after a move out of the window).
    public var selection: RowKey?

    public init(anchor: Anchor = .newest, cursor: Int = 0, selection: RowKey? = nil) {
        self.anchor = anchor
        self.cursor = cursor
        self.selection = selection
    }
}

/// How the list keeps up with the store; the title bar names it.
public enum LiveMode: Sendable, Equatable {
    /// The window sticks to the newest rows, and the newest row is selected.
    case following
    /// The cursor moved: the selected row stays the same row while new rows arrive above it, and the rest of
    /// the screen (rows, header totals) stays live. `g` follows again.
    case scrolled
    /// Space: nothing on screen changes from the store until space again, which follows.
    case paused

    /// The title bar's marker.
    public var marker: String {
        switch self {
        case .following: "FOLLOWING"
        case .scrolled: "SCROLLED"
        case .paused: "PAUSED"
        }
    }
}

/// The Invocations filter (`f`).
public struct InvocationFilter: Sendable, Equatable {
    public var status: InvocationStatus?
    public var flushReason: FlushReason?
    public var coldOnly: Bool = false
    /// Scope of every tab (a fleet store from `lantern import` holds many functions and environments):
    /// `lantern dash --function NAME --environment ID`.
    public var functionName: String?
    public var environmentID: String?

    public init(
        status: InvocationStatus? = nil, flushReason: FlushReason? = nil, coldOnly: Bool = false,
        functionName: String? = nil, environmentID: String? = nil
    ) {
        self.status = status
        self.flushReason = flushReason
        self.coldOnly = coldOnly
        self.functionName = functionName
        self.environmentID = environmentID
    }

    /// Whether any condition is set.
    public var isActive: Bool { status != nil || flushReason != nil || coldOnly || isScoped }

    /// Whether a function or environment narrows every tab.
    public var isScoped: Bool { functionName != nil || environmentID != nil }

    /// The filter as the tab bar shows it.
    public var summary: String {
        var parts: [String] = []
        if let functionName { parts.append("function=\(functionName)") }
        if let environmentID { parts.append("env=\(environmentID.prefix(8))") }
        if let status { parts.append("status=\(status.rawValue)") }
        if let flushReason { parts.append("flush=\(flushReason.rawValue)") }
        if coldOnly { parts.append("cold") }
        return parts.joined(separator: " ")
    }
}

/// What the screen is showing on top of the list.
public enum ScreenMode: Sendable, Equatable {
    case list
    case detail(requestID: String)
    case help
    case filterMenu
}

/// Which way a search goes through the list (newest-first order).
public enum SearchDirection: Sendable, Equatable {
    case older, newer
}

/// Everything about the UI that is not in the store.
public struct UIState: Sendable, Equatable {
    public var tab: Tab = .invocations
    public var positions: [Tab: ListPosition] = [:]
    public var mode: ScreenMode = .list
    public var liveMode: LiveMode = .following
    public var filter = InvocationFilter()
    /// The committed search term (n/N look for it).
    public var search: String?
    /// Text typed after `/`, while the prompt is open.
    public var searchInput: String?
    public var detailScroll: Int = 0
    /// A one-line note in the footer ("no match", "no detail for this row").
    public var message: String?

    public init() {}

    /// Whether the window sticks to the newest rows.
    public var following: Bool { liveMode == .following }

    /// The position of the current tab.
    public var position: ListPosition {
        get { positions[tab] ?? ListPosition() }
        set { positions[tab] = newValue }
    }
}
