// `lantern-extension`: the headless collector the Lambda layer ships as `extensions/lantern-extension`.
// Lambda registers extensions by file name, so the binary's name is the extension's name.

import Collector
import GlibcCompat

lantern_tune_malloc()
// Before the first task: from here on every task runs on the one NIO event loop (EventLoopExecutor.swift).
EventLoopExecutor.install(loops: 1)
await CollectorProcess.main()
