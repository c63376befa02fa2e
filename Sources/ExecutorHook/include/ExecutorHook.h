// The Swift runtime's hook for where global jobs (tasks not on an actor) run: a stable C entry point that
// swift-nio's `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor` also uses. NIO finds the
// hook with dlsym, which a statically linked binary cannot answer (the static stdlib links with
// --exclude-libs ALL, so the hook is not in .dynsym); a C reference resolves it at link time instead.
// (`Task.sleep` does not reach the runtime's delay hooks in Swift 6.3: a uprobe on them counted zero calls.)
#pragma once

/// Receives every job Swift Concurrency enqueues on its global executor.
typedef void (*lantern_job_sink)(void *_Nonnull job);

/// Routes global jobs to `sink` from now on. 0 on success, -1 when another hook is already installed.
int lantern_route_global_jobs(lantern_job_sink _Nonnull sink);
