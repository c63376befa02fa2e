@testable import Dashboard
import Foundation
import LanternStore
import Testing
import TestSupport

/// The dashboard over a fleet store (what `lantern import` writes: many environments and functions, no flushes,
/// no logs), whole and scoped to one function or one environment (`lantern dash --function/--environment`).
@Suite("Fleet rendering")
struct FleetRenderingTests {
    let width = 140
    let height = 40
    static let base: Int64 = 1_790_000_000_000_000
    static let environments = [("env-orders-aaaa", "orders"), ("env-billing-bbbb", "billing")]

    /// Two functions, one environment each, six invocations each (the second of billing an error with a proxy),
    /// and a SHUTDOWN of orders' environment, written by the import writer.
    static func fleetStore(in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("fleet.db").path
        let writer = try ImportWriter(path: path)
        defer { writer.close() }
        var lines: [ImportedFacts] = []
        for (e, (env, function)) in environments.enumerated() {
            for i in 0..<6 {
                let at = base + Int64(e * 100 + i) * 1_000_000
                var environment = EnvironmentFact(id: env)
                environment.functionName = function
                environment.memoryMB = 256
                environment.startedAt = at
                var fact = InvocationFact(requestID: "\(function)-\(i)-0000-4000-8000-000000000000")
                fact.environmentID = env
                fact.invokedAt = at
                fact.coldStart = i == 0
                fact.status = function == "billing" && i == 1 ? .error : .success
                fact.flushReason = fact.status == .error ? .runtimeDone : .agent
                fact.runtimeDoneAt = at + 30_000
                fact.releasedAt = at + 31_000
                fact.durationMs = 31.5
                fact.memorySizeMB = 256
                var proxy: ProxyTransactionRecord?
                if fact.status == .error {
                    proxy = ProxyTransactionRecord(
                        requestID: fact.requestID, environmentID: env, transactionID: "0123456789abcdef",
                        result: "error", outcome: "failure", durationMs: 31, trigger: .runtimeDone, createdAt: at + 31_000)
                }
                lines.append(ImportedFacts(environment: environment, invocation: fact, proxy: proxy))
            }
        }
        var orders = EnvironmentFact(id: environments[0].0)
        orders.shutdownAt = base + 10_000_000
        orders.shutdownReason = "spindown"
        lines.append(ImportedFacts(environment: orders, shutdown: ShutdownRecord(
            environmentID: environments[0].0, receivedAt: base + 10_000_000, reason: "spindown", flushOutcome: "sent")))
        #expect(try writer.write(lines).isEmpty)
        return path
    }

    private func screen(
        _ path: String, _ state: inout UIState, scope: StoreScope = StoreScope()
    ) throws -> (lines: [String], snapshot: DashboardSnapshot) {
        let tail = try StoreTail(path: path, scope: scope)
        var snapshot = try tail.snapshot(state: &state, pageSize: ScreenRenderer.pageSize(forHeight: height))
        snapshot.header.totals = try tail.totals()
        let lines = ScreenRenderer(glyphs: .unicode).render(snapshot, state, width: width, height: height, storePath: path)
        return (lines.map(\.text), snapshot)
    }

    @Test("the whole fleet: both environments in the header, every invocation in the list")
    func wholeFleet() throws {
        let path = try Self.fleetStore(in: try TestPaths.temporaryDirectory("dash-fleet"))
        var state = UIState()
        let (lines, snapshot) = try screen(path, &state)
        #expect(lines[1].contains("orders") && lines[1].contains("billing"), "\(lines[1])")
        #expect(lines[1].contains("invocations 12"), "\(lines[1])")
        guard case .invocations(let rows) = snapshot.rows else { Issue.record("not the invocations tab"); return }
        #expect(rows.count == 12)
        #expect(rows.filter { $0.hasProxy }.count == 1)
    }

    @Test("--function and --environment narrow every tab, survive x, and show in the filter summary")
    func scoped() throws {
        let path = try Self.fleetStore(in: try TestPaths.temporaryDirectory("dash-fleet-scoped"))
        var state = UIState()
        state.filter.functionName = "billing"
        var (lines, snapshot) = try screen(path, &state)
        guard case .invocations(let rows) = snapshot.rows else { Issue.record("not the invocations tab"); return }
        #expect(rows.count == 6 && rows.allSatisfy { $0.requestID.hasPrefix("billing-") })
        #expect(lines.joined(separator: "\n").contains("function=billing"))

        state.tab = .shutdowns
        (lines, snapshot) = try screen(path, &state)
        guard case .shutdowns(let none) = snapshot.rows else { Issue.record("not the shutdowns tab"); return }
        #expect(none.isEmpty, "billing's environment never shut down")

        state.filter = InvocationFilter(environmentID: Self.environments[0].0)
        (lines, snapshot) = try screen(path, &state)
        guard case .shutdowns(let one) = snapshot.rows else { Issue.record("not the shutdowns tab"); return }
        #expect(one.count == 1 && one.first?.reason == "spindown")

        state.tab = .invocations
        state.filter.status = .success
        _ = state.apply(.clearFilter, snapshot: nil, pageSize: 10)
        #expect(state.filter == InvocationFilter(environmentID: Self.environments[0].0))
        (lines, snapshot) = try screen(path, &state)
        guard case .invocations(let orders) = snapshot.rows else { Issue.record("not the invocations tab"); return }
        #expect(orders.count == 6 && orders.allSatisfy { $0.requestID.hasPrefix("orders-") })
    }

    @Test("the header follows the scope too: its environments and totals are the scoped ones")
    func scopedHeader() throws {
        let path = try Self.fleetStore(in: try TestPaths.temporaryDirectory("dash-fleet-header"))
        var state = UIState()
        state.filter = InvocationFilter(functionName: "billing")
        var (lines, snapshot) = try screen(path, &state, scope: StoreScope(functionName: "billing"))
        #expect(lines[1].contains("billing") && !lines[1].contains("orders"), "\(lines[1])")
        #expect(lines[1].contains("invocations 6"), "\(lines[1])")
        #expect(snapshot.header.totals?.proxies == 1 && snapshot.header.totals?.shutdowns == 0)

        state = UIState()
        state.filter = InvocationFilter(environmentID: Self.environments[0].0)
        (lines, snapshot) = try screen(path, &state, scope: StoreScope(environmentID: Self.environments[0].0))
        #expect(lines[1].contains("orders") && !lines[1].contains("billing"), "\(lines[1])")
        #expect(snapshot.header.totals?.invocations == 6 && snapshot.header.totals?.proxies == 0)
        #expect(snapshot.header.totals?.shutdowns == 1)
    }
}
