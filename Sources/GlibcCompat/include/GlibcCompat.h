// glibc-specific pieces of the layer binary: `hypotf` and `arc4random` (so it loads on glibc 2.34, see their
// files) and the allocator settings of the collector process (malloc_tuning.c).
#pragma once

/// Fixed malloc trim and mmap thresholds for the collector process; call once, before other threads start.
void lantern_tune_malloc(void);
