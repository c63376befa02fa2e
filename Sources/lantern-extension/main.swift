// `lantern-extension`: the headless collector the Lambda layer ships as `extensions/lantern-extension`.
// Lambda registers extensions by file name, so the binary's name is the extension's name.

import Collector
import GlibcCompat

#if canImport(Glibc)
import Glibc
#endif

lantern_tune_malloc()
// Before the first task: from here on every task runs on the one NIO event loop (EventLoopExecutor.swift).
EventLoopExecutor.install(loops: 1)
// No top-level `await`: that parks the main thread in libdispatch's `dispatch_main`, which hands the main queue to
// a worker thread of its own, and every thread is woken twice by each freeze (docs/layer.md). Nothing here runs on
// the main actor: the collector is a detached task on the event loop, and it ends the process itself.
Task.detached { await CollectorProcess.main() }
while true { pause() }
