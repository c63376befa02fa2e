/// The detail of one invocation: timeline, report, proxy, flushes and log lines.
struct DetailScreen {
    var glyphs: Glyphs

    func lines(_ detail: InvocationDetail?, requestID: String, width: Int) -> [StyledLine] {
        guard let d = detail else {
            return [StyledLine(" Invocation \(requestID)", .title), StyledLine(" not in the store (any more).", .warn)]
        }
        let r = d.row
        var out: [StyledLine] = []
        var title = StyledLine()
        title.append(" Invocation \(r.requestID)  ", .title)
        title.append(r.status ?? "running", ListScreens.statusStyle(r.status))
        if let error = r.errorType { title.append(" (\(error))", .bad) }
        if r.coldStart { title.append("  \(glyphs.cold) cold start", .accent) }
        if r.hasProxy { title.append("  \(glyphs.proxy) proxy transaction", .warn) }
        if let inFlight = r.inFlight { title.append("  \(glyphs.times)\(inFlight) in flight at start", .accent) }
        out.append(title)
        out.append(field("function", d.functionARN ?? "-"))
        var environment = d.environmentID ?? "-"
        if r.isManagedInstances {
            environment += "  managed instances" + (d.maxConcurrency.map { ", up to \(glyphs.times)\($0) at once" } ?? "")
        }
        out.append(field("environment", environment))
        out.append(field("trace", d.traceID ?? "-"))
        if let timeout = r.timeoutMs {
            // Managed Instances have no INVOKE event, so often no deadline: leave it out rather than a blank clock.
            let deadline = r.isManagedInstances && d.deadlineAt == nil ? "" : "  deadline " + Format.clock(d.deadlineAt)
            out.append(field("timeout", Format.ms(Double(timeout)) + deadline))
        }
        out.append(StyledLine(""))

        out.append(StyledLine(" Timeline", .label))
        var previous: Int64?
        let timeline = d.timeline
        for (index, point) in timeline.enumerated() {
            var line = StyledLine()
            line.append("   " + Format.pad(point.label, 16, glyphs: glyphs))
            guard let at = point.at else {
                line.append("-", .dim)
                out.append(line)
                continue
            }
            line.append(Format.clock(at))
            if let previous {
                line.append("   " + Format.pad("+" + Format.ms(Format.between(previous, at)), 10, glyphs: glyphs), .accent)
            } else {
                line.append("   " + Format.pad("", 10, glyphs: glyphs))
            }
            if let start = r.invokedAt, index > 0 {
                line.append("  at " + Format.ms(Format.between(start, at)), .dim)
            }
            // The last step (released, or a Managed Instances invocation's report) is what the reason names.
            if index == timeline.count - 1, let reason = r.flushReason {
                line.append("  (flush reason: \(reason))", ListScreens.flushStyle(reason))
            }
            out.append(line)
            previous = at
        }
        if timeline.last?.at == nil, let reason = r.flushReason {
            out.append(StyledLine("   flush reason: \(reason)", ListScreens.flushStyle(reason)))
        }
        out.append(StyledLine(""))

        if r.isManagedInstances { out += concurrency(d) }

        out.append(StyledLine(" Report", .label))
        if r.isManagedInstances {
            // The Managed Instances report has no billed duration or memory figures, and nothing is held after
            // the runtime, so there is no post-runtime time: say so rather than show a dash that reads "not yet".
            out.append(field("duration", Format.ms(r.durationMs) + "   init " + Format.ms(d.initDurationMs)
                + "   report status " + (d.reportStatus ?? "-")))
            out.append(field("n/a", "billed duration, memory and post-runtime time: Managed Instances report none"))
        } else {
            out.append(field("handler", Format.ms(r.handlerMs) + "   post-runtime " + (r.postRuntimeMs.map(Format.ms) ?? "-")))
            out.append(field("duration", Format.ms(r.durationMs) + "   billed " + (d.billedDurationMs.map { "\($0)ms" } ?? "-")
                + "   init " + Format.ms(d.initDurationMs)))
            out.append(field("memory", "\(r.maxMemoryUsedMB.map(String.init) ?? "-") of \(r.memorySizeMB.map(String.init) ?? "-") MB"
                + "   report status " + (d.reportStatus ?? "-")))
        }
        out.append(field("response", "produced " + Format.bytes(d.producedBytes) + "   at " + Format.clock(d.responseAt)))
        out.append(field("agent", "\(d.agentEvents) events, \(Format.bytes(d.agentBytes))   transaction "
            + (d.transactionID ?? "-")))
        out.append(StyledLine(""))

        out.append(StyledLine(" Proxy transaction", .label))
        if let p = d.proxy {
            out.append(field("transaction", p.transactionID + "   trigger " + p.trigger))
            out.append(field("result", (p.result ?? "-") + "   outcome " + (p.outcome ?? "-") + "   duration "
                + Format.ms(p.durationMs)))
            out.append(field("forwarded", p.forwardedAt.map { Format.clock($0) } ?? "not yet"))
        } else {
            out.append(StyledLine("   none (the agent reported its own transaction, or none was registered)", .dim))
        }
        out.append(StyledLine(""))

        out.append(StyledLine(" Flushes during it (\(d.flushes.count))", .label))
        for f in d.flushes {
            var line = StyledLine()
            line.append("   " + Format.clock(f.startedAt) + "  " + Format.pad(f.trigger, 11, glyphs: glyphs))
            line.append(Format.pad(f.outcome, 9, glyphs: glyphs), f.outcome == "sent" ? .good : .bad)
            line.append(" \(f.httpStatus.map(String.init) ?? "-")  \(f.events) events  \(Format.bytes(f.bytes))  "
                + Format.ms(f.durationMs))
            if let error = f.error { line.append("  " + error, .bad) }
            out.append(line)
        }
        out.append(StyledLine(""))

        let more = d.logLineCount > d.logs.count ? " of \(d.logLineCount)" : ""
        out.append(StyledLine(" Log lines (\(d.logs.count)\(more))", .label))
        for l in d.logs {
            var line = StyledLine()
            line.append("   " + Format.clock(l.at) + "  " + Format.pad(l.source, 9, glyphs: glyphs), .dim)
            line.append(" " + Format.pad(l.level ?? "-", 6, glyphs: glyphs) + " ")
            line.append(ListScreens.oneLine(l.message))
            out.append(line)
        }
        return out
    }

    /// Managed Instances: how many were in flight at the start, and the invocations that overlapped this one,
    /// placed relative to its start (a few lines; the rest counted).
    private func concurrency(_ d: InvocationDetail) -> [StyledLine] {
        var out = [StyledLine(" Concurrency", .label)]
        let limit = d.maxConcurrency.map { " of at most \(glyphs.times)\($0)" } ?? ""
        out.append(field("in flight", (d.row.inFlight.map { "\(glyphs.times)\($0) at its start" } ?? "-") + limit))
        let overlapped = d.overlapCount == 0 ? "none: it ran alone"
            : "\(d.overlapCount) other invocation\(d.overlapCount == 1 ? "" : "s") ran at the same time"
        out.append(field("overlapped", overlapped))
        for o in d.overlaps {
            var line = StyledLine()
            line.append("     " + Format.pad(Format.shortID(o.requestID), 9, glyphs: glyphs))
            line.append(Format.pad(o.status ?? "running", 9, glyphs: glyphs), ListScreens.statusStyle(o.status))
            line.append(" start " + Format.pad(Self.offset(o.startOffsetMs), 10, glyphs: glyphs, right: true))
            line.append("   end " + Format.pad(o.endOffsetMs.map(Self.offset) ?? "running", 10, glyphs: glyphs, right: true))
            if let inFlight = o.inFlight { line.append("   \(glyphs.times)\(inFlight) at its start", .dim) }
            out.append(line)
        }
        if d.overlapCount > d.overlaps.count {
            out.append(StyledLine("     +\(d.overlapCount - d.overlaps.count) more", .dim))
        }
        out.append(StyledLine(""))
        return out
    }

    /// A time relative to this invocation's start, signed: `-120.0ms`, `+0.0ms`, `+1.20s`.
    static func offset(_ ms: Double) -> String { ms < 0 ? Format.ms(ms) : "+" + Format.ms(ms) }

    private func field(_ name: String, _ value: String) -> StyledLine {
        StyledLine([StyledSpan("   " + Format.pad(name, 12, glyphs: glyphs), .dim), StyledSpan(value)])
    }
}
