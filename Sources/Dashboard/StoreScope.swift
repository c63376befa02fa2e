import LanternStore

/// The environments a dashboard over a fleet store covers (`lantern dash --function/--environment`): the tabs
/// filter by it through `UIState.filter`, the header's totals and environment line through this. Fixed for a
/// session (it comes from the command line), so totals counted at a revision stay valid for it.
public struct StoreScope: Sendable, Equatable {
    public var functionName: String?
    public var environmentID: String?

    public init(functionName: String? = nil, environmentID: String? = nil) {
        self.functionName = functionName
        self.environmentID = environmentID
    }

    /// The whole store: no condition at all, so the header's statements keep their plans.
    public var isWholeStore: Bool { functionName == nil && environmentID == nil }

    /// `environment_id IN (...)` over `?1` (environment id) and `?2` (function name); nil for the whole store.
    var environmentCondition: String? {
        guard !isWholeStore else { return nil }
        return "environment_id IN (SELECT id FROM environments WHERE (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR function_name = ?2))"
    }

    /// The same on `environments` itself.
    var environmentRowCondition: String? {
        guard !isWholeStore else { return nil }
        return "(?1 IS NULL OR id = ?1) AND (?2 IS NULL OR function_name = ?2)"
    }

    var bindings: [SQLValue] {
        guard !isWholeStore else { return [] }
        return [environmentID.map(SQLValue.text) ?? .null, functionName.map(SQLValue.text) ?? .null]
    }

    /// ` WHERE <condition>` / ` AND <condition>` to append to a statement without / with a WHERE of its own.
    func clause(after existingWhere: Bool) -> String {
        guard let condition = environmentCondition else { return "" }
        return (existingWhere ? " AND " : " WHERE ") + condition
    }
}
