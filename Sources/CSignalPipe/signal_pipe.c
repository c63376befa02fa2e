// The signal side of the collector's self-pipe: the handler does the one thing that is safe in a signal handler,
// write(2) a byte, and the event loop reads it (Sources/Collector/SignalPipe.swift says why not libdispatch).

#define _GNU_SOURCE
#include "SignalPipe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static atomic_int pipe_write_fd = -1;

static void on_signal(int signo) {
    int saved = errno;
    int fd = atomic_load_explicit(&pipe_write_fd, memory_order_relaxed);
    if (fd >= 0) {
        unsigned char byte = (unsigned char)signo;
        // A full pipe drops the byte: the loop already has that signal's number to read.
        ssize_t written = write(fd, &byte, 1);
        (void)written;
    }
    errno = saved;
}

void lantern_signal_pipe_set(int write_fd) {
    atomic_store_explicit(&pipe_write_fd, write_fd, memory_order_release);
}

int lantern_signal_pipe_trap(int signo) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    // Interrupted system calls of other threads resume: the loop is what reacts to the signal.
    action.sa_flags = SA_RESTART;
    return sigaction(signo, &action, NULL);
}

int lantern_signal_pipe_make(int *read_fd, int *write_fd) {
    int ends[2];
    if (pipe2(ends, O_NONBLOCK | O_CLOEXEC) != 0) return -1;
    *read_fd = ends[0];
    *write_fd = ends[1];
    return 0;
}
