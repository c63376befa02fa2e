// glibc returns freed memory at the top of a thread's heap to the kernel as soon as it exceeds the trim
// threshold (128 KB, moved by the dynamic mmap threshold). The store's writer thread frees and reallocates
// SQLite's buffers on every commit, so each commit paid madvise + fresh zeroed pages: measured with
// `perf record -e cpu-clock` during `lantern-bench overhead`, 37% of the writer thread's CPU was page
// faults and 7% madvise. Fixed thresholds keep that memory for reuse (the peak RSS is the same: it is the
// memory the commits need anyway).

#if canImport(Glibc)
import Glibc
#endif

/// Process-wide allocator settings for the collector (set once, at start, before any thread exists).
enum MallocTuning {
    /// Keep up to 8 MB free at the top of a heap; serve allocations up to 4 MB from the heaps.
    static func apply() {
        #if canImport(Glibc)
        // M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3 (malloc.h); setting either stops the dynamic adjustment.
        _ = mallopt(-1, 8 << 20)
        _ = mallopt(-3, 4 << 20)
        #endif
    }
}
