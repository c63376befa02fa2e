#pragma once

/// Makes the pipe, both ends non-blocking and close-on-exec. 0 on success, -1 with errno set otherwise.
int lantern_signal_pipe_make(int *_Nonnull read_fd, int *_Nonnull write_fd);

/// Sets the pipe (write end, non-blocking) that trapped signals are written to, one byte per signal: its number.
/// A negative descriptor drops them.
void lantern_signal_pipe_set(int write_fd);

/// Traps `signo`: from now on it is written to the pipe instead of taking its default action. 0 on success,
/// -1 with errno set otherwise.
int lantern_signal_pipe_trap(int signo);
