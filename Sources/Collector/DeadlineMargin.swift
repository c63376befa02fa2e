// Elastic's extension ends a silent invocation at "deadline - 200 ms" but truncates to whole seconds
// first, so its margin is anywhere from 200 to 1,199 ms (and for a 1 s timeout the timer is already in
// the past). Lantern computes the margin in milliseconds from the time the invocation has left.

/// How long before an invocation's deadline the collector stops waiting for it.
public enum DeadlineMargin {
    /// Never more than this: a flush and a proxy fit well inside it.
    public static let maximumMs: Int64 = 200
    /// Never less than this, unless the invocation has less than twice as long left.
    public static let minimumMs: Int64 = 20

    /// The margin for an invocation with `remainingMs` left at INVOKE: a tenth of it, clamped to
    /// 20...200 ms, and never more than half of what is left.
    public static func milliseconds(remainingMs: Int64) -> Int64 {
        guard remainingMs > 0 else { return 0 }
        let tenth = min(maximumMs, max(minimumMs, remainingMs / 10))
        return min(tenth, remainingMs / 2)
    }
}
