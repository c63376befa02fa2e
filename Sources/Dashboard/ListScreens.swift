import Foundation

/// The list of each tab: a column-title row, then one row per record, newest first.
struct ListScreens {
    var glyphs: Glyphs

    func lines(_ snapshot: DashboardSnapshot?, state: UIState, width: Int) -> [StyledLine] {
        guard let snapshot else { return [StyledLine("")] }
        let cursor = state.position.cursor
        let search = state.search
        var out: [StyledLine]
        switch snapshot.rows {
        case .invocations(let rows):
            // The in-flight column is there for Managed Instances only, so a classic list reads as it always did.
            let inFlight = rows.contains { $0.inFlight != nil }
                || snapshot.header.environments.contains(where: \.isManagedInstances)
            let bar = barWidth(width - (inFlight ? Self.inFlightWidth : 0))
            out = [invocationTitles(bar: bar, inFlight: inFlight)]
            out += rows.map { invocation($0, bar: bar, inFlight: inFlight) }
        case .proxies(let rows):
            out = [titles("TIME          REQUEST   TRIGGER      RESULT       OUTCOME    DURATION  TRANSACTION         FORWARDED")]
            out += rows.map(proxy)
        case .shutdowns(let rows):
            out = [titles("TIME          REASON       PENDING  PROXIES  FLUSH        FLUSH TIME  EXITED        ENVIRONMENT")]
            out += rows.map(shutdown)
        case .flushes(let rows):
            out = [titles("TIME          TRIGGER     OUTCOME   HTTP  EVENTS      BYTES  DURATION  TRY  REQUEST   ERROR")]
            out += rows.map(flush)
        case .logs(let rows):
            out = [titles("TIME          SOURCE     LEVEL  REQUEST   MESSAGE")]
            out += rows.map(log)
        case .events(let rows):
            out = [titles("TIME          KIND                  NAME                  DETAIL")]
            out += rows.map(event)
        }
        if snapshot.rows.count == 0 {
            out.append(StyledLine(""))
            out.append(StyledLine(emptyMessage(state), .dim))
            return out
        }
        for i in 1..<out.count {
            if let search, out[i].text.localizedCaseInsensitiveContains(search) {
                out[i].spans = out[i].spans.map { StyledSpan($0.text, $0.style == .plain ? .match : $0.style) }
            }
            if i - 1 == cursor {
                out[i] = StyledLine(out[i].spans.map { StyledSpan($0.text, .selected) }, fill: .selected)
                out[i].spans[0].text = ">" + out[i].spans[0].text.dropFirst()
            }
        }
        return out
    }

    private func emptyMessage(_ state: UIState) -> String {
        if state.tab == .invocations, state.filter.isActive {
            return "  No invocations match the filter (\(state.filter.summary)). f then x clears it."
        }
        switch state.tab {
        case .invocations: return "  No invocations yet. Invoke the function; rows appear here as they happen."
        case .proxies: return "  No proxy transactions: every agent reported its own transaction."
        case .shutdowns: return "  No shutdowns yet."
        case .flushes: return "  No sends to the APM Server yet."
        case .logs: return "  No log lines yet."
        case .events: return "  No collector events yet."
        }
    }

    private func titles(_ text: String) -> StyledLine { StyledLine(" " + text, .label) }

    /// The bar gets what the fixed columns (about 94 cells) and room for an error type (24) leave, 10 to 40 cells.
    func barWidth(_ width: Int) -> Int { max(10, min(40, width - 118)) }

    /// The cells of the in-flight column (`  ×3 `), when shown.
    static let inFlightWidth = 5

    private func invocationTitles(bar: Int, inFlight: Bool) -> StyledLine {
        let flight = inFlight ? Format.pad("\(glyphs.times)N", Self.inFlightWidth - 1, glyphs: glyphs, right: true) + " " : ""
        let title = " TIME          REQUEST  C STATUS    " + flight + Format.pad(bar >= 33 ? "HANDLER + POST-RUNTIME vs TIMEOUT" : "vs TIMEOUT", bar, glyphs: glyphs)
            + "  HANDLER     POST  TIMEOUT  FLUSH        P  MEMORY"
        return StyledLine(title, .label)
    }

    static func statusStyle(_ status: String?) -> TextStyle {
        switch status {
        case "success": .good
        case "error", "failure": .bad
        case "timeout": .warn
        default: .dim
        }
    }

    static func flushStyle(_ reason: String?) -> TextStyle {
        switch reason {
        case "agent": .good
        case "runtimeDone": .accent
        case "timeout": .warn
        case "shutdown": .bad
        case "report": .accent
        default: .dim
        }
    }

    private func invocation(_ r: InvocationListRow, bar width: Int, inFlight: Bool) -> StyledLine {
        var line = StyledLine()
        line.append(" " + Format.clock(r.invokedAt) + "  ")
        line.append(Format.pad(Format.shortID(r.requestID), 8, glyphs: glyphs) + " ")
        line.append(r.coldStart ? glyphs.cold : " ", .accent)
        line.append(" ")
        line.append(Format.pad(r.status ?? "running", 9, glyphs: glyphs), Self.statusStyle(r.status))
        line.append(" ")
        if inFlight {
            let count = r.inFlight.map { "\(glyphs.times)\($0)" } ?? ""
            line.append(Format.pad(count, Self.inFlightWidth - 1, glyphs: glyphs, right: true) + " ", .accent)
        }
        line.spans += bar(r, width: width)
        line.append("  " + Format.pad(Format.ms(r.handlerMs), 9, glyphs: glyphs, right: true))
        // Managed Instances hold nothing after the runtime: blank, not "-" (which says "not known yet").
        let post = r.postRuntimeMs.map { "+" + Format.ms($0) } ?? (r.isManagedInstances ? "" : "-")
        line.append(" " + Format.pad(post, 8, glyphs: glyphs, right: true))
        line.append(" " + Format.pad(r.timeoutMs.map { Format.ms(Double($0)) } ?? "-", 8, glyphs: glyphs, right: true))
        line.append("  ")
        line.append(Format.pad(r.flushReason ?? "-", 12, glyphs: glyphs), Self.flushStyle(r.flushReason))
        line.append(" ")
        line.append(r.hasProxy ? glyphs.proxy : " ", .warn)
        line.append("  ")
        let memory: String
        switch (r.maxMemoryUsedMB, r.memorySizeMB) {
        case (let used?, let size?): memory = "\(used)/\(size) MB"
        case (nil, let size?): memory = "-/\(size) MB"
        default: memory = r.isManagedInstances ? "" : "-"  // the Managed Instances report has no memory figures
        }
        line.append(memory)
        if let error = r.errorType { line.append("  " + error, .bad) }
        return line
    }

    /// Handler time, then post-runtime time, against the timeout: `█████▒▒·············`.
    func bar(_ r: InvocationListRow, width: Int) -> [StyledSpan] {
        guard let timeout = r.timeoutMs, timeout > 0 else {
            return [StyledSpan(Cells.repeated(" ", width))]
        }
        let scale = Double(width) / Double(timeout)
        let handler = r.handlerMs ?? 0
        let post = r.postRuntimeMs ?? 0
        var handlerCells = Int((handler * scale).rounded())
        if handler > 0, handlerCells == 0 { handlerCells = 1 }
        var postCells = Int((post * scale).rounded())
        if post >= 1, postCells == 0 { postCells = 1 }
        let overflow = handlerCells + postCells > width
        handlerCells = min(handlerCells, width)
        postCells = min(postCells, width - handlerCells)
        let empty = width - handlerCells - postCells
        var spans = [
            StyledSpan(Cells.repeated(glyphs.barRuntime, handlerCells), Self.statusStyle(r.status ?? "")),
            StyledSpan(Cells.repeated(glyphs.barPostRuntime, postCells), .accent),
            StyledSpan(Cells.repeated(glyphs.barEmpty, empty), .dim),
        ]
        if overflow, width > 0 {
            let text = String(spans[0].text.dropLast()) + glyphs.barOverflow
            spans[0] = StyledSpan(postCells > 0 ? spans[0].text : text, spans[0].style)
            if postCells > 0 { spans[1].text = String(spans[1].text.dropLast()) + glyphs.barOverflow }
        }
        return spans
    }

    private func proxy(_ r: ProxyListRow) -> StyledLine {
        var line = StyledLine()
        line.append(" " + Format.clock(r.createdAt) + "  ")
        line.append(Format.pad(Format.shortID(r.requestID), 9, glyphs: glyphs) + " ")
        line.append(Format.pad(r.trigger, 12, glyphs: glyphs) + " ", ListScreens.flushStyle(r.trigger))
        line.append(Format.pad(r.result ?? "-", 12, glyphs: glyphs) + " ")
        line.append(Format.pad(r.outcome ?? "-", 10, glyphs: glyphs) + " ", r.outcome == "failure" ? .bad : .plain)
        line.append(Format.pad(Format.ms(r.durationMs), 8, glyphs: glyphs, right: true) + "  ")
        line.append(Format.pad(r.transactionID, 19, glyphs: glyphs) + " ")
        line.append(r.forwardedAt.map { Format.clock($0) } ?? "not yet", r.forwardedAt == nil ? .warn : .plain)
        return line
    }

    private func shutdown(_ r: ShutdownListRow) -> StyledLine {
        var line = StyledLine()
        line.append(" " + Format.clock(r.receivedAt) + "  ")
        line.append(Format.pad(r.reason, 12, glyphs: glyphs) + " ", r.reason == "spindown" ? .plain : .bad)
        line.append(Format.pad("\(r.pendingInvocations)", 7, glyphs: glyphs, right: true) + "  ")
        line.append(Format.pad("\(r.proxiesCreated)", 7, glyphs: glyphs, right: true) + "  ")
        line.append(Format.pad(r.flushOutcome ?? "-", 12, glyphs: glyphs) + " ")
        line.append(Format.pad(Format.ms(r.flushDurationMs), 10, glyphs: glyphs, right: true) + "  ")
        line.append(Format.pad(r.exitedAt.map { Format.clock($0) } ?? "-", 13, glyphs: glyphs) + " ")
        line.append(r.environmentID ?? "-", .dim)
        return line
    }

    private func flush(_ r: FlushListRow) -> StyledLine {
        var line = StyledLine()
        let style: TextStyle = r.outcome == "sent" ? .good : (r.outcome == "deferred" ? .warn : .bad)
        line.append(" " + Format.clock(r.startedAt) + "  ")
        line.append(Format.pad(r.trigger, 11, glyphs: glyphs) + " ")
        line.append(Format.pad(r.outcome, 9, glyphs: glyphs) + " ", style)
        line.append(Format.pad(r.httpStatus.map(String.init) ?? "-", 4, glyphs: glyphs, right: true) + "  ")
        line.append(Format.pad(Format.count(r.events), 6, glyphs: glyphs, right: true) + " ")
        line.append(Format.pad(Format.bytes(r.bytes), 10, glyphs: glyphs, right: true) + " ")
        line.append(Format.pad(Format.ms(r.durationMs), 9, glyphs: glyphs, right: true) + " ")
        line.append(Format.pad("\(r.attempt)", 4, glyphs: glyphs, right: true) + "  ")
        line.append(Format.pad(Format.shortID(r.requestID), 8, glyphs: glyphs) + "  ")
        if let error = r.error { line.append(error, .bad) }
        return line
    }

    private func log(_ r: LogListRow) -> StyledLine {
        var line = StyledLine()
        line.append(" " + Format.clock(r.at) + "  ")
        line.append(Format.pad(r.source, 10, glyphs: glyphs) + " ", .dim)
        let level = r.level ?? "-"
        let levelStyle: TextStyle =
            switch level.uppercased() {
            case "ERROR", "FATAL", "CRITICAL": .bad
            case "WARN", "WARNING": .warn
            default: .plain
            }
        line.append(Format.pad(level, 6, glyphs: glyphs) + " ", levelStyle)
        line.append(Format.pad(Format.shortID(r.requestID), 8, glyphs: glyphs) + "  ")
        line.append(Self.oneLine(r.message))
        return line
    }

    private func event(_ r: EventListRow) -> StyledLine {
        var line = StyledLine()
        line.append(" " + Format.clock(r.at) + "  ")
        line.append(Format.pad(r.kind, 21, glyphs: glyphs) + " ", .accent)
        line.append(Format.pad(r.name ?? "-", 21, glyphs: glyphs) + " ")
        line.append(Self.oneLine(r.detail ?? ""), .dim)
        return line
    }

    /// Control characters (newlines, tabs, escapes) would break the row; show them as spaces.
    static func oneLine(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
    }
}
