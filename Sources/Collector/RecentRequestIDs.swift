/// The newest `capacity` request ids, in a fixed-size ring with a set beside it: late agent data and late log
/// lines of an invocation that already ended are recognised (and never reopen it) without keeping every id.
struct RecentRequestIDs {
    let capacity: Int
    private var ring: [String] = []
    private var next = 0
    private var members: Set<String> = []

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        ring.reserveCapacity(self.capacity)
    }

    func contains(_ id: String) -> Bool { members.contains(id) }

    var count: Int { members.count }

    mutating func insert(_ id: String) {
        guard !members.contains(id) else { return }
        if ring.count < capacity {
            ring.append(id)
        } else {
            members.remove(ring[next])
            ring[next] = id
            next = (next + 1) % capacity
        }
        members.insert(id)
    }
}
