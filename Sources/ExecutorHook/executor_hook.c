#include "ExecutorHook.h"
#include <stddef.h>

// The runtime's declarations (swift/Runtime/ConcurrencyHooks.def): the hook and the function it gets use the
// Swift calling convention, which clang spells `swiftcall`.
typedef __attribute__((swiftcall)) void (*enqueue_original)(void *job);
typedef __attribute__((swiftcall)) void (*enqueue_hook)(void *job, enqueue_original original);
extern enqueue_hook swift_task_enqueueGlobal_hook;

static lantern_job_sink job_sink;

static __attribute__((swiftcall)) void route(void *job, enqueue_original original) {
    (void)original;
    job_sink(job);
}

int lantern_route_global_jobs(lantern_job_sink sink) {
    if (swift_task_enqueueGlobal_hook != NULL) return -1;
    job_sink = sink;
    // Set before any task exists (the caller's contract), so no job can read a half-set pair.
    swift_task_enqueueGlobal_hook = route;
    return 0;
}
