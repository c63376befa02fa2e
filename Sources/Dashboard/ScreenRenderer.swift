/// Where the store stands, as far as the screen says so.
public enum StoreStatus: Sendable, Equatable {
    /// Reading it.
    case open
    /// Waiting for the file (or its schema) to appear.
    case waiting(String)
}

/// Turns (snapshot, UI state) into screen rows. Pure: no terminal, no store, so tests call it directly.
public struct ScreenRenderer: Sendable {
    public var glyphs: Glyphs

    public init(glyphs: Glyphs = .unicode) { self.glyphs = glyphs }

    /// Rows above the list: title, three header lines, tab bar, column titles.
    static let headerRows = 6
    /// Rows below the list: the footer.
    static let footerRows = 1

    /// How many list rows fit in a terminal `height` rows tall.
    public static func pageSize(forHeight height: Int) -> Int { max(1, height - headerRows - footerRows) }

    /// The whole screen: exactly `height` rows of exactly `width` cells.
    public func render(_ snapshot: DashboardSnapshot?, _ state: UIState, width: Int, height: Int,
                       storePath: String, status: StoreStatus = .open) -> [StyledLine] {
        var lines: [StyledLine] = []
        let header = HeaderView(glyphs: glyphs)
        lines.append(header.titleLine(path: storePath, state: state, width: width))
        lines += header.summaryLines(snapshot?.header, status: status, width: width)
        lines.append(header.tabBar(state: state))
        let bodyHeight = max(0, height - Self.headerRows - Self.footerRows)
        let body: [StyledLine]
        switch (status, state.mode) {
        case (.waiting(let why), _):
            body = [StyledLine(""), StyledLine(why, .warn),
                    StyledLine("Waiting for it to appear (checked several times a second). q quits.", .dim)]
        case (.open, .help):
            body = Overlays(glyphs: glyphs).help()
        case (.open, .filterMenu):
            body = Overlays(glyphs: glyphs).filterMenu(state.filter)
        case (.open, .detail(let requestID)):
            body = DetailScreen(glyphs: glyphs).lines(snapshot?.detail, requestID: requestID, width: width)
        case (.open, .list):
            body = ListScreens(glyphs: glyphs).lines(snapshot, state: state, width: width)
        }
        // Column titles sit on the first body row; detail and overlays scroll under a rule.
        var visible: [StyledLine]
        if case .detail = state.mode, status == .open {
            visible = [StyledLine(String(repeating: glyphs.horizontal, count: width), .dim)]
            visible += body.dropFirst(min(state.detailScroll, max(0, body.count - 1)))
        } else {
            visible = body
        }
        lines += visible.prefix(bodyHeight + 1)
        while lines.count < height - Self.footerRows { lines.append(StyledLine("")) }
        lines = Array(lines.prefix(height - Self.footerRows))
        lines.append(footer(snapshot, state, width: width))
        return lines.map { $0.fitted(to: width) }
    }

    private func footer(_ snapshot: DashboardSnapshot?, _ state: UIState, width: Int) -> StyledLine {
        if let input = state.searchInput {
            return StyledLine([StyledSpan("/", .accent), StyledSpan(input + "_", .plain),
                               StyledSpan("   Enter search \(glyphs.dot) Esc cancel", .dim)])
        }
        var line = StyledLine(fill: .label)
        if let message = state.message {
            line.append(" " + message + " ", .warn)
        }
        let hints: [String]
        switch state.mode {
        case .detail: hints = ["j/k scroll", "Esc back", "? help", "q back"]
        case .help: hints = ["any key closes the help"]
        case .filterMenu: hints = ["s status", "r flush reason", "c cold", "x clear", "Esc done"]
        case .list:
            switch state.liveMode {
            case .following:
                hints = ["j/k move", "Enter open", "Tab/1-6 tabs", "/ search", "f filter", "space pause", "? help", "q quit"]
            case .scrolled:
                hints = ["j/k move", "Enter open", "Tab/1-6 tabs", "/ search", "f filter", "g follow", "space pause",
                         "? help", "q quit"]
            case .paused:
                hints = ["j/k move", "Enter open", "space resume", "? help", "q quit"]
            }
        }
        line.append(" " + hints.joined(separator: " \(glyphs.dot) "), .label)
        if let search = state.search { line.append("   search: \(search) (n/N)", .label) }
        if case .list = state.mode, let snapshot {
            var where_: [String] = []
            if snapshot.hasNewer { where_.append("↑ newer") }
            if snapshot.hasOlder { where_.append("↓ older") }
            if !where_.isEmpty {
                let text = " " + where_.joined(separator: " ").replacingOccurrences(of: "↑", with: glyphs == .ascii ? "^" : "↑")
                    .replacingOccurrences(of: "↓", with: glyphs == .ascii ? "v" : "↓") + " "
                let gap = width - line.width - text.count
                if gap > 0 { line.append(Cells.repeated(" ", gap), .label) }
                line.append(text, .label)
            }
        }
        return line
    }
}
