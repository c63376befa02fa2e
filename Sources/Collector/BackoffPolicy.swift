// Elastic's grace period after the APM Server failed (elastic/apm transport spec): the first failure
// waits a uniformly random 0–5 s (so many environments do not retry in lockstep), then
// min(n, 6)² seconds ±10 % jitter: 1, 4, 9, 16, 25, 36, 36 ... s.

import NIOCore

/// How long the Forwarder waits before it tries a failing APM Server again.
public struct BackoffPolicy: Sendable {
    /// The range of the first wait (Elastic: 0 ... 5 s).
    public var first: ClosedRange<Double>
    /// The unit of the n² steps (Elastic: 1 s).
    public var stepSeconds: Double
    /// The largest n (Elastic: 6, so 36 s at most).
    public var maxStep: Int
    /// Relative jitter on the n² steps (Elastic: 0.1).
    public var jitter: Double

    public init(first: ClosedRange<Double>, stepSeconds: Double, maxStep: Int, jitter: Double) {
        self.first = first
        self.stepSeconds = stepSeconds
        self.maxStep = maxStep
        self.jitter = jitter
    }

    /// Elastic's schedule.
    public static let elastic = BackoffPolicy(first: 0...5, stepSeconds: 1, maxStep: 6, jitter: 0.1)

    /// The wait after the `failures`-th consecutive failure (1 = the first).
    public func delay<G: RandomNumberGenerator>(afterFailures failures: Int, using generator: inout G) -> TimeAmount {
        let seconds: Double
        if failures <= 1 {
            seconds = first.lowerBound == first.upperBound
                ? first.lowerBound : Double.random(in: first, using: &generator)
        } else {
            let step = Double(min(failures - 1, maxStep))
            let base = step * step * stepSeconds
            seconds = jitter > 0 ? base * Double.random(in: (1 - jitter)...(1 + jitter), using: &generator) : base
        }
        return .nanoseconds(Int64(max(0, seconds) * 1_000_000_000))
    }

    public func delay(afterFailures failures: Int) -> TimeAmount {
        var generator = SystemRandomNumberGenerator()
        return delay(afterFailures: failures, using: &generator)
    }
}
