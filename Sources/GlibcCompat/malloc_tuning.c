// glibc hands freed memory at the top of a thread's heap back to the kernel once it exceeds the trim
// threshold (128 KB, moved by the dynamic mmap threshold). The store's writer thread frees and reallocates
// SQLite's buffers on every commit, so each commit paid madvise plus freshly zeroed pages: with
// `perf record -e cpu-clock` during `lantern-bench overhead`, 37% of the writer thread's CPU was page
// faults and 7% madvise. Fixed thresholds keep that memory for reuse; the peak RSS is unchanged, as it is
// memory the commits need anyway.
#include <malloc.h>
#include "GlibcCompat.h"

void lantern_tune_malloc(void) {
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
}
