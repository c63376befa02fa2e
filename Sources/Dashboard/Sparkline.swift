/// A row of block characters, one per value: how many invocations were in flight, bucket by bucket.
struct Sparkline {
    var glyphs: Glyphs

    /// One cell per value. The scale tops out at `ceiling` (the environment's maximum concurrency, so a full
    /// block means "at the limit") or at the largest value when that is higher. Zero has its own glyph, and any
    /// value above zero shows at least the lowest block, so one invocation is never drawn as none.
    func cells(_ values: [Int], ceiling: Int?) -> String {
        let levels = glyphs.sparkLevels
        let top = max(1, ceiling ?? 0, values.max() ?? 0)
        let steps = levels.count - 1
        var out = ""
        for value in values {
            if value <= 0 {
                out += levels[0]
            } else {
                let level = (value * steps + top - 1) / top
                out += levels[min(steps, max(1, level))]
            }
        }
        return out
    }
}
