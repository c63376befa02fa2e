/// A key press as the terminal decoded it.
public enum Key: Sendable, Equatable {
    case character(Character)
    case up, down, pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace
    case wheelUp, wheelDown
    case resize
}

/// What a key asks for.
public enum Action: Sendable, Equatable {
    case move(Int)
    case page(Int)
    case top
    case bottom
    case open
    case back
    case nextTab
    case previousTab
    case selectTab(Tab)
    case beginSearch
    case searchNext
    case searchPrevious
    case openFilter
    case togglePause
    case toggleHelp
    case quit
    case redraw
    // Inside the `/` prompt.
    case searchType(Character)
    case searchErase
    case searchCommit
    case searchCancel
    // Inside the filter menu.
    case cycleStatus
    case cycleFlushReason
    case toggleCold
    case clearFilter
}

/// The keys of the dashboard, in one table so `?` can list them all.
public enum KeyMap {
    /// Every key and what it does, as the help overlay lists them.
    public static let help: [(keys: String, action: String)] = [
        ("j / Down", "next row (older); stops following, the data stays live"),
        ("k / Up", "previous row (newer)"),
        ("g / Home", "newest row, and follow new rows"),
        ("G / End", "oldest row"),
        ("PgDn / Ctrl-F", "page down"),
        ("PgUp / Ctrl-B", "page up"),
        ("mouse wheel", "scroll"),
        ("Enter", "open the selected invocation"),
        ("Esc / q", "back (q quits from the list)"),
        ("Tab / Shift-Tab", "next / previous tab"),
        ("1-6", "Invocations Proxies Shutdowns Flushes Logs Events"),
        ("/", "search the current tab"),
        ("n / N", "next / previous match"),
        ("f", "filter invocations: s status, r flush reason, c cold, x clear"),
        ("space", "pause / follow (paused: nothing on screen changes)"),
        ("?", "this help"),
        ("Ctrl-L", "redraw"),
        ("q", "quit"),
    ]

    /// The action for a key in the given mode, or nil when the key does nothing there.
    public static func action(for key: Key, in state: UIState) -> Action? {
        if key == .resize { return .redraw }
        if state.searchInput != nil {
            switch key {
            case .enter: return .searchCommit
            case .escape: return .searchCancel
            case .backspace: return .searchErase
            case .character(let c): return .searchType(c)
            default: return nil
            }
        }
        switch state.mode {
        case .help:
            return .toggleHelp
        case .filterMenu:
            switch key {
            case .character("s"): return .cycleStatus
            case .character("r"): return .cycleFlushReason
            case .character("c"): return .toggleCold
            case .character("x"): return .clearFilter
            case .character("q"): return .quit
            case .escape, .enter, .character("f"): return .back
            default: return nil
            }
        case .detail:
            switch key {
            case .escape, .character("h"), .backspace: return .back
            case .character("q"): return .back
            case .character("j"), .down, .wheelDown: return .move(1)
            case .character("k"), .up, .wheelUp: return .move(-1)
            case .pageDown, .character("\u{06}"): return .page(1)
            case .pageUp, .character("\u{02}"): return .page(-1)
            case .character("g"), .home: return .top
            case .character("?"): return .toggleHelp
            case .character("\u{0C}"): return .redraw
            default: return nil
            }
        case .list:
            break
        }
        switch key {
        case .character("j"), .down: return .move(1)
        case .character("k"), .up: return .move(-1)
        case .wheelDown: return .move(3)
        case .wheelUp: return .move(-3)
        case .pageDown, .character("\u{06}"): return .page(1)
        case .pageUp, .character("\u{02}"): return .page(-1)
        case .character("g"), .home: return .top
        case .character("G"), .end: return .bottom
        case .enter, .character("l"): return .open
        case .escape: return .back
        case .tab: return .nextTab
        case .backTab: return .previousTab
        case .character("/"): return .beginSearch
        case .character("n"): return .searchNext
        case .character("N"): return .searchPrevious
        case .character("f"): return .openFilter
        case .character(" "): return .togglePause
        case .character("?"): return .toggleHelp
        case .character("q"): return .quit
        case .character("\u{0C}"): return .redraw
        case .character(let c):
            if let digit = c.wholeNumberValue, let tab = Tab(rawValue: digit - 1) { return .selectTab(tab) }
            return nil
        default: return nil
        }
    }
}
