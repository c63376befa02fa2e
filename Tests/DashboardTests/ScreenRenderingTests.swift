@testable import Dashboard
import Foundation
import LanternStore
import Testing
import TestSupport

/// The screens as pure functions of (store snapshot, UI state): rendered from a store the Recorder filled.
@Suite("Screen rendering")
struct ScreenRenderingTests {
    let width = 140
    let height = 40

    private func screen(_ path: String, _ state: inout UIState, glyphs: Glyphs = .unicode, totals: Bool = true)
        throws -> (text: String, snapshot: DashboardSnapshot)
    {
        let tail = try StoreTail(path: path)
        var snapshot = try tail.snapshot(state: &state, pageSize: ScreenRenderer.pageSize(forHeight: height))
        if totals { snapshot.header.totals = try tail.totals() }
        let lines = ScreenRenderer(glyphs: glyphs).render(snapshot, state, width: width, height: height, storePath: path)
        #expect(lines.count == height)
        #expect(lines.allSatisfy { $0.width == width })
        return (lines.map(\.text).joined(separator: "\n"), snapshot)
    }

    @Test func invocationsScreenShowsEveryStatusFlushReasonProxyAndColdStart() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-render")
        let path = try await StoreFixture.known(in: dir)
        var state = UIState()
        let (text, snapshot) = try screen(path, &state)
        let lines = text.split(separator: "\n").map(String.init)
        // Header: store path, environment, totals per status and flush reason, forwarder health, follow marker.
        #expect(lines[0].contains(path))
        #expect(lines[0].contains("FOLLOWING"))
        #expect(lines[1].contains("checkout-fn (512 MB, emulator)"))
        #expect(lines[1].contains("invocations 5"))
        #expect(lines[1].contains("cold starts 1"))
        for fragment in ["success 2", "error 1", "failure 1", "timeout 1", "agent 2", "runtimeDone 1", "shutdown 1"] {
            #expect(lines[2].contains(fragment), "header totals lack \(fragment): \(lines[2])")
        }
        #expect(lines[3].contains("failed 1"))
        #expect(lines[3].contains("dropped 1 batches / 5 events"))
        #expect(lines[3].contains("proxies 2"))
        #expect(lines[3].contains("shutdowns 3"))
        #expect(lines[4].contains("[1 Invocations]"))
        // Rows: newest first, one per invocation, with status, flush reason, markers and memory.
        guard case .invocations(let rows) = snapshot.rows else {
            Issue.record("not the invocations tab")
            return
        }
        #expect(rows.map(\.requestID) == StoreFixture.ids.reversed())
        let rowLines = lines.filter { line in StoreFixture.ids.contains { line.contains(String($0.prefix(8))) } }
        #expect(rowLines.count == 5)
        #expect(rowLines[0].hasPrefix(">"), "the newest row is selected")
        #expect(rowLines[0].contains("eeee0005") && rowLines[0].contains("❄"))
        #expect(rowLines[1].contains("dddd0004") && rowLines[1].contains("timeout") && !rowLines[1].contains("❄"))
        #expect(rowLines[2].contains("cccc0003") && rowLines[2].contains("failure") && rowLines[2].contains("shutdown")
            && rowLines[2].contains("◆"))
        #expect(rowLines[3].contains("bbbb0002") && rowLines[3].contains("error") && rowLines[3].contains("runtimeDone")
            && rowLines[3].contains("◆") && rowLines[3].contains("Runtime.HandledError"))
        #expect(rowLines[4].contains("aaaa0001") && rowLines[4].contains("success") && rowLines[4].contains("agent")
            && !rowLines[4].contains("◆"))
        // The bar: handler cells, post-runtime cells, the rest of the timeout; and the numbers beside it.
        #expect(rowLines[4].contains("█") && rowLines[4].contains("▒") && rowLines[4].contains("·"))
        #expect(rowLines[4].contains("120.0ms") && rowLines[4].contains("+20.0ms") && rowLines[4].contains("3.00s"))
        #expect(rowLines[4].contains("80/512 MB"))
    }

    @Test("the header says what the store could not keep and what its size bound pruned, and only when it did")
    func headerShowsStoreLosses() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-render")
        let path = try await StoreFixture.known(in: dir)
        func healthLine() throws -> String {
            let tail = try StoreTail(path: path)
            var state = UIState()
            var snapshot = try tail.snapshot(state: &state, pageSize: 10)
            snapshot.header.totals = try tail.totals()
            return ScreenRenderer(glyphs: .unicode).render(snapshot, state, width: 240, height: 30, storePath: path)[3].text
        }
        #expect(!(try healthLine()).contains("store lost"))
        let connection = try Connection(path: path, mode: .readWrite)
        try connection.execute("""
            INSERT INTO lifecycle_events (at, kind, name, detail, rev) VALUES (1, 'records_dropped', 'recorder', '12 records dropped: disk full', 900);
            INSERT INTO store_prunes (at, cutoff_at, invocations, rows, bytes_before, bytes_after, bound_bytes, rev)
                VALUES (1, 1, 40, 200, 10, 5, 100, 900);
            """)
        connection.close()
        let line = try healthLine()
        #expect(line.contains("store lost 12 records"), "\(line)")
        #expect(line.contains("pruned 40 oldest"), "\(line)")
    }

    @Test func detailShowsTimelineReportProxyFlushesAndLogs() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-render")
        let path = try await StoreFixture.known(in: dir)
        var state = UIState()
        state.mode = .detail(requestID: StoreFixture.ids[1])
        let (text, _) = try screen(path, &state)
        for fragment in [
            "Invocation bbbb0002-error-runtimedone", "Runtime.HandledError", "proxy transaction", "Timeline",
            "INVOKE received", "platform.start", "runtimeDone", "agent flush", "released", "+0.8ms", "+129.2ms",
            "flush reason: runtimeDone", "billed 132ms", "81 of 512 MB", "txn-proxy-error", "trigger runtimeDone",
            "HTTP 5xx", "Log lines (2)", "handling order 1", "order 1 done: error",
        ] {
            #expect(text.contains(fragment), "detail lacks \(fragment)\n\(text)")
        }
        // The flushes during an invocation: all four outcomes were attributed to the first one.
        state.mode = .detail(requestID: StoreFixture.ids[0])
        let (first, _) = try screen(path, &state)
        #expect(first.contains("Flushes during it (4)"))
        for outcome in ["sent", "failed", "dropped", "deferred", "APM Server answered 503"] {
            #expect(first.contains(outcome), "detail lacks flush \(outcome)")
        }
    }

    @Test func everyTabRendersItsRows() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-render")
        let path = try await StoreFixture.known(in: dir)
        let expected: [(Tab, [String])] = [
            (.proxies, ["[2 Proxies]", "txn-proxy-error", "txn-proxy-shutdown", "runtimeDone", "shutdown", "not yet"]),
            (.shutdowns, ["[3 Shutdowns]", "spindown", "timeout", "failure", "12.5ms"]),
            (.flushes, ["[4 Flushes]", "sent", "failed", "dropped", "deferred", "503", "buffer full"]),
            (.logs, ["[5 Logs]", "handling order 0", "order 3 done: timeout", "ERROR"]),
            (.events, ["[6 Events]", "startup", "registered", "subscribed", "terminating", "telemetry on :4243"]),
        ]
        for (tab, fragments) in expected {
            var state = UIState()
            state.tab = tab
            let (text, _) = try screen(path, &state)
            for fragment in fragments {
                #expect(text.contains(fragment), "\(tab) lacks \(fragment)\n\(text)")
            }
        }
    }

    @Test func filterKeepsOnlyMatchingInvocations() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-render")
        let path = try await StoreFixture.known(in: dir)
        var state = UIState()
        state.filter = InvocationFilter(status: .error)
        var (text, snapshot) = try screen(path, &state)
        #expect(snapshot.rows.count == 1)
        #expect(text.contains("bbbb0002") && !text.contains("aaaa0001"))
        #expect(text.contains("filter: status=error"))
        state.filter = InvocationFilter(flushReason: .agent)
        (text, snapshot) = try screen(path, &state)
        #expect(snapshot.rows.count == 2)
        state.filter = InvocationFilter(coldOnly: true)
        (text, snapshot) = try screen(path, &state)
        #expect(snapshot.rows.count == 1 && text.contains("eeee0005"))
        state.filter = InvocationFilter(status: .timeout, flushReason: .agent)
        (text, snapshot) = try screen(path, &state)
        #expect(snapshot.rows.count == 0)
        #expect(text.contains("No invocations match the filter"))
    }

    @Test("the search worker answers in the background; a newer search replaces an older one's answer")
    func searchWorkerAnswersInTheBackground() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-render")
        let path = try await StoreFixture.known(in: dir)
        let tail = try StoreTail(path: path)
        var state = UIState()
        let keys = try tail.snapshot(state: &state, pageSize: 20).rows.keys
        let worker = SearchWorker(path: path)
        func answer() async throws -> (request: SearchRequest, result: Result<RowKey?, DashboardError>)? {
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                if let answer = worker.take() { return answer }
                try await Task.sleep(for: .milliseconds(5))
            }
            return nil
        }
        let request = SearchRequest(term: "HandledError", direction: .older, tab: .invocations, filter: state.filter)
        worker.start(request, in: state, from: keys[0])
        let found = try #require(try await answer())
        #expect(found.request == request)
        #expect(try found.result.get() == keys[3])
        #expect(worker.pending == nil && worker.take() == nil)

        // Two searches in a row: only the second one's answer comes.
        worker.start(SearchRequest(term: "HandledError", direction: .older, tab: .invocations, filter: state.filter),
                     in: state, from: keys[0])
        let second = SearchRequest(term: "no-such-term", direction: .older, tab: .invocations, filter: state.filter)
        worker.start(second, in: state, from: keys[0])
        let last = try #require(try await answer())
        #expect(last.request == second)
        #expect(try last.result.get() == nil)
        try await Task.sleep(for: .milliseconds(100))
        #expect(worker.take() == nil)
    }

    @Test func searchFindsOlderAndNewerMatches() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-render")
        let path = try await StoreFixture.known(in: dir)
        let tail = try StoreTail(path: path)
        var state = UIState()
        let snapshot = try tail.snapshot(state: &state, pageSize: 20)
        let keys = snapshot.rows.keys
        // "order" matches every log line; from the newest, the next older one is the second row.
        state.tab = .invocations
        let match = try #require(try tail.find("HandledError", in: state, from: keys[0], direction: .older))
        state.select(match, visible: keys)
        #expect(state.position.cursor == 3)
        #expect(state.following == false)
        #expect(try tail.find("HandledError", in: state, from: match, direction: .older) == nil)
        #expect(try tail.find("cold", in: state, from: match, direction: .newer) == keys[0])
        // A term with LIKE wildcards is matched literally.
        #expect(try tail.find("%", in: state, from: nil, direction: .older) == nil)
    }

    @Test func asciiGlyphsKeepTheScreenASCII() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-render")
        let path = try await StoreFixture.known(in: dir)
        for tab in Tab.allCases {
            var state = UIState()
            state.tab = tab
            let (text, _) = try screen(path, &state, glyphs: .ascii)
            #expect(text.unicodeScalars.allSatisfy { $0.isASCII }, "non-ASCII on \(tab)")
        }
        var state = UIState()
        let (text, _) = try screen(path, &state, glyphs: .ascii)
        #expect(text.contains("#") && text.contains("*"))
    }

    @Test func helpOverlayListsEveryKey() throws {
        var state = UIState()
        state.mode = .help
        let lines = ScreenRenderer().render(nil, state, width: 120, height: 40, storePath: "x.db")
        let text = lines.map(\.text).joined(separator: "\n")
        for entry in KeyMap.help {
            #expect(text.contains(entry.keys), "help lacks \(entry.keys)")
        }
    }

    @Test func tinyTerminalStillGetsExactlyItsSize() async throws {
        let dir = try TestPaths.temporaryDirectory("dash-render")
        let path = try await StoreFixture.known(in: dir)
        let tail = try StoreTail(path: path)
        for (w, h) in [(20, 5), (40, 8), (80, 24)] {
            var state = UIState()
            let snapshot = try tail.snapshot(state: &state, pageSize: ScreenRenderer.pageSize(forHeight: h))
            let lines = ScreenRenderer().render(snapshot, state, width: w, height: h, storePath: path)
            #expect(lines.count == h)
            #expect(lines.allSatisfy { $0.width == w })
        }
    }
}
