/// The top of the screen: title with the live marker (following, scrolled or paused), environments, totals,
/// forwarder health, tabs.
struct HeaderView {
    var glyphs: Glyphs

    func titleLine(path: String, state: UIState, width: Int) -> StyledLine {
        var line = StyledLine(fill: .title)
        line.append(" Lantern dash ", .title)
        line.append("\(glyphs.dot) \(path) ", .title)
        let marker = " \(state.liveMode.marker) "
        let gap = width - line.width - marker.count
        if gap > 0 { line.append(Cells.repeated(" ", gap), .title) }
        line.append(marker, Self.markerStyle(state.liveMode))
        return line
    }

    /// Green while following, neutral while scrolled (still live), yellow while paused (nothing updates).
    static func markerStyle(_ mode: LiveMode) -> TextStyle {
        switch mode {
        case .following: .good
        case .scrolled: .accent
        case .paused: .warn
        }
    }

    func summaryLines(_ header: HeaderSnapshot?, status: StoreStatus, width: Int = .max) -> [StyledLine] {
        guard let header, status == .open else {
            return [StyledLine(" store  not open yet", .dim), StyledLine(""), StyledLine("")]
        }
        return [environmentLine(header, width: width), totalsLine(header.totals), healthLine(header)]
    }

    private func environmentLine(_ header: HeaderSnapshot, width: Int) -> StyledLine {
        var line = StyledLine()
        line.append(" env    ", .label)
        if header.environments.isEmpty {
            line.append("none yet", .dim)
        }
        for (i, env) in header.environments.prefix(2).enumerated() {
            if i > 0 { line.append("  \(glyphs.vertical) ", .dim) }
            line.append(env.functionName ?? Format.shortID(env.id), .accent)
            var facts: [String] = []
            if let memory = env.memoryMB { facts.append("\(memory) MB") }
            if let source = env.source { facts.append(source) }
            if env.isManagedInstances {
                facts.append("managed instances" + (env.maxConcurrency.map { " \(glyphs.times)\($0)" } ?? ""))
            }
            if let telemetry = env.telemetry, telemetry != "subscribed" { facts.append("telemetry \(telemetry)") }
            if let reason = env.shutdownReason { facts.append("shut down: \(reason)") }
            if !facts.isEmpty { line.append(" (" + facts.joined(separator: ", ") + ")") }
        }
        if header.environments.count > 2 { line.append("  +\(header.environments.count - 2) more", .dim) }
        if let totals = header.totals {
            line.append("   invocations ", .label)
            line.append(Format.count(totals.invocations))
            line.append("  cold starts ", .label)
            line.append(Format.count(totals.coldStarts))
        }
        appendConcurrency(header, to: &line, width: width)
        return line
    }

    /// Managed Instances only: in flight now, the peak, and the strip of the recent window.
    private func appendConcurrency(_ header: HeaderSnapshot, to line: inout StyledLine, width: Int) {
        let concurrency = header.totals?.concurrency
        guard header.inFlightNow != nil || concurrency != nil else { return }
        let ceiling = header.environments.first(where: \.isManagedInstances)?.maxConcurrency
        line.append("   in flight ", .label)
        let now = header.inFlightNow ?? 0
        line.append(Format.count(now), ceiling.map { now >= $0 } == true ? .warn : .plain)
        guard let concurrency else { return }
        line.append("  peak ", .label)
        line.append(Format.count(concurrency.peak))
        // The newest buckets that fit the terminal (at least a few), labelled with the time they cover.
        let room = width == .max ? concurrency.recent.count : width - line.width - 7
        let shown = concurrency.recent.suffix(max(0, min(room, concurrency.recent.count)))
        if shown.count >= 5 {
            line.append("  ")
            line.append(Sparkline(glyphs: glyphs).cells(Array(shown), ceiling: ceiling), .accent)
            line.append(" \(Int(concurrency.bucketMicros * Int64(shown.count) / 1_000_000))s", .dim)
        }
    }

    private func totalsLine(_ totals: HeaderTotals?) -> StyledLine {
        var line = StyledLine()
        line.append(" status ", .label)
        guard let totals else {
            line.append("counting\(glyphs.ellipsis)", .dim)
            return line
        }
        for status in ["success", "error", "failure", "timeout"] {
            let n = totals.byStatus[status] ?? 0
            line.append(" \(status) ", n > 0 ? ListScreens.statusStyle(status) : .dim)
            line.append(Format.count(n))
        }
        let running = totals.invocations - totals.byStatus.values.reduce(0, +)
        if running > 0 {
            line.append(" running ", .dim)
            line.append(Format.count(running))
        }
        line.append("   flush ", .label)
        // `report` ends Managed Instances invocations: shown when there are some, so classic reads as before.
        let report = (totals.byFlushReason["report"] ?? 0) > 0 ? ["report"] : []
        for reason in ["agent", "runtimeDone", "timeout", "shutdown"] + report {
            let n = totals.byFlushReason[reason] ?? 0
            line.append(" \(reason) ", n > 0 ? ListScreens.flushStyle(reason) : .dim)
            line.append(Format.count(n))
        }
        return line
    }

    private func healthLine(_ header: HeaderSnapshot) -> StyledLine {
        var line = StyledLine()
        line.append(" apm    ", .label)
        if let last = header.lastFlush {
            line.append("last flush ")
            let style: TextStyle = last.outcome == "sent" ? .good : .bad
            var outcome = last.outcome
            if let code = last.httpStatus { outcome += " \(code)" }
            line.append(outcome, style)
            line.append(" at \(Format.clock(last.at))")
            if let error = last.error, last.outcome != "sent" { line.append(" (\(error))", .bad) }
        } else {
            line.append("no flush yet", .dim)
        }
        if let totals = header.totals {
            line.append("   failed ", .label)
            line.append(Format.count(totals.flushesFailed), totals.flushesFailed > 0 ? .bad : .plain)
            line.append("  dropped ", .label)
            line.append(
                "\(Format.count(totals.batchesDropped)) batches / \(Format.count(totals.eventsDropped)) events",
                totals.batchesDropped > 0 ? .bad : .plain)
            line.append("   proxies ", .label)
            line.append(Format.count(totals.proxies))
            line.append("  shutdowns ", .label)
            line.append(Format.count(totals.shutdowns))
            // The store's own losses and its size bound, only when there are any.
            if totals.recordsDropped > 0 {
                line.append("   store lost ", .label)
                line.append("\(Format.count(totals.recordsDropped)) records", .bad)
            }
            if totals.prunedInvocations > 0 {
                line.append("   pruned ", .label)
                line.append("\(Format.count(totals.prunedInvocations)) oldest", .dim)
            }
        }
        return line
    }

    func tabBar(state: UIState) -> StyledLine {
        var line = StyledLine()
        line.append(" ")
        for tab in Tab.allCases {
            let label = tab == state.tab ? "[\(tab.rawValue + 1) \(tab.title)]" : " \(tab.rawValue + 1) \(tab.title) "
            line.append(label, tab == state.tab ? .tabActive : .dim)
            line.append(" ")
        }
        if state.filter.isActive {
            line.append("  filter: \(state.filter.summary)", .warn)
        }
        return line
    }
}
