"""
The ingest's guard: runs the hysds-stac CLI inside its own process group and makes
sure it cannot outlive the hook that asked for it.

Run as ``python guard.py <grace-seconds> -- <cli argv...>`` by the hook (cli.py),
in a new session, so this process leads a process group that holds only itself and
the CLI: whatever kills the worker's process group (a timeout's SIGKILL) does not
reach them, and the hook signals exactly that group. Its stdin is a pipe whose
only writer is the hook; the kernel closes it when the hook dies, however it dies.
End of file on stdin while the CLI runs therefore means "the job is dead": the
group gets SIGTERM (the CLI rolls back what it had published), and SIGKILL after
the grace period (the journal then leaves the rollback to `hysds-stac recover` or
the next ingest of the job). The exit status is the CLI's (128+N when a signal N
ended it).

Standard library only, and run by file path: it must work wherever the hook is
imported from, installed or not.
"""
import os
import signal
import subprocess
import sys
import threading
import time


def _parent_death_signal() -> None:
    """Linux: the CLI gets SIGTERM should this guard itself be killed (by pid, not group)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _watch_hook(child: "subprocess.Popen[bytes]", grace: float) -> None:
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    if child.poll() is not None:
        return
    group = os.getpgrp()
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if child.poll() is not None:
            break
        time.sleep(0.1)
    # Past the grace, or the CLI is gone and anything it started must go too. This
    # kills the guard as well, which ends the story.
    os.killpg(group, signal.SIGKILL)


def main(argv: "list[str]") -> int:
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write("usage: guard.py <grace-seconds> -- <command...>\n")
        return 2
    grace = float(argv[1])
    command = argv[3:]
    # Signals the hook forwards to the group are meant for the CLI: the guard stays
    # to report its exit status. A handler (unlike SIG_IGN) is reset by exec, so the
    # CLI still gets the default disposition and its own handlers.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: None)
    try:
        # preexec_fn is safe here: no thread has been started yet.
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, preexec_fn=_parent_death_signal)
    except OSError as e:
        sys.stderr.write(f"cannot run {command[0]}: {e.strerror}\n")
        return 127
    threading.Thread(target=_watch_hook, args=(child, grace), daemon=True).start()
    while True:
        try:
            code = child.wait()
            break
        except InterruptedError:
            continue
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.stdout.flush()
    os._exit(main(sys.argv))
