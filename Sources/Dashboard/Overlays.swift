import LanternStore

/// The help overlay (`?`) and the filter menu (`f`).
struct Overlays {
    var glyphs: Glyphs

    func help() -> [StyledLine] {
        var out = [StyledLine(" Keys", .title)]
        for entry in KeyMap.help {
            out.append(StyledLine([StyledSpan("   " + Format.pad(entry.keys, 18, glyphs: glyphs), .accent),
                                   StyledSpan(entry.action)]))
        }
        out.append(StyledLine(""))
        out.append(StyledLine("   FOLLOWING newest row selected \(glyphs.dot) SCROLLED after a move: same row selected, data live "
            + "\(glyphs.dot) PAUSED after space: frozen", .dim))
        out.append(StyledLine("   Bar: \(glyphs.barRuntime) handler  \(glyphs.barPostRuntime) post-runtime (extension held the "
            + "environment)  \(glyphs.barEmpty) rest of the timeout.  \(glyphs.cold) cold start  \(glyphs.proxy) proxy transaction", .dim))
        out.append(StyledLine("   Managed Instances: \(glyphs.times)N invocations in flight when it started (itself included); "
            + "flush reason report: ended by its platform.report.", .dim))
        out.append(StyledLine("   Press any key to close.", .dim))
        return out
    }

    func filterMenu(_ filter: InvocationFilter) -> [StyledLine] {
        func choice(_ key: String, _ name: String, _ value: String, _ options: String) -> StyledLine {
            StyledLine([StyledSpan("   \(key)  ", .accent), StyledSpan(Format.pad(name, 14, glyphs: glyphs)),
                        StyledSpan(Format.pad(value, 13, glyphs: glyphs), .warn), StyledSpan(options, .dim)])
        }
        return [
            StyledLine(" Filter invocations", .title),
            choice("s", "status", filter.status?.rawValue ?? "any",
                   InvocationStatus.allCases.map(\.rawValue).joined(separator: " / ")),
            choice("r", "flush reason", filter.flushReason?.rawValue ?? "any",
                   FlushReason.allCases.map(\.rawValue).joined(separator: " / ")),
            choice("c", "cold only", filter.coldOnly ? "yes" : "no", "yes / no"),
            choice("x", "clear", "", "remove every condition"),
            StyledLine(""),
            StyledLine("   Esc, Enter or f closes this menu.", .dim),
        ]
    }
}
