"""
Runs `hysds-stac ingest <job-dir> --json` so that killing the job kills the ingest.

The CLI runs under guard.py, in a process group of its own (the guard's), never in
the worker's: a SIGKILL of the worker's process group cannot reach it and leave it
publishing, and the guard notices the hook's death through a pipe and stops the
ingest. While the CLI runs, SIGTERM and SIGINT sent to the hook are forwarded to
that whole group, so the CLI rolls back; once it has, the signal is delivered
again to the hook with the handler it had before, so the worker dies (or raises)
as it would have, only after the rollback. Any other exception that cuts the wait
short (Celery's SoftTimeLimitExceeded, KeyboardInterrupt) stops the group too.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from typing import Any, Dict, List, Mapping, Optional

from . import errors

log = logging.getLogger("hysds_stac_hysds")

GUARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guard.py")
FORWARDED = (signal.SIGTERM, signal.SIGINT)
STDERR_TAIL = 4000


def _signal_group(group: int, sig: int) -> None:
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop(guard: "subprocess.Popen[bytes]", grace: float) -> None:
    _signal_group(guard.pid, signal.SIGTERM)
    try:
        guard.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(guard.pid, signal.SIGKILL)
        guard.wait()


class _Forwarding:
    """SIGTERM/SIGINT handlers that pass the signal on to the ingest's group, while it runs."""

    def __init__(self, group: int) -> None:
        self.group = group
        self.received: List[int] = []
        self.previous: Dict[int, Any] = {}

    def __enter__(self) -> "_Forwarding":
        # Python only lets the main thread set handlers; elsewhere the caller's own
        # signal handling stays in charge, and the guard still covers the hook's death.
        if threading.current_thread() is threading.main_thread():
            for sig in FORWARDED:
                self.previous[sig] = signal.signal(sig, self._forward)
        return self

    def _forward(self, signum: int, _frame: Any) -> None:
        # No logging here: a handler runs between any two bytecodes, possibly inside
        # a logging call holding its lock. The hook logs once the ingest has ended.
        self.received.append(signum)
        _signal_group(self.group, signum)

    def __exit__(self, *_exc: Any) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def redeliver(self) -> None:
        """The first signal forwarded, given back to the hook's process now that the ingest is over."""
        if self.received and self.previous:
            log.warning("hysds-stac: the ingest was stopped by %s and has ended; passing the signal on", signal.Signals(self.received[0]).name)
            os.kill(os.getpid(), self.received[0])


def run(argv: List[str], *, grace: float, env: Optional[Mapping[str, str]] = None) -> "tuple[int, str, str]":
    """Runs the CLI to its end; returns (exit status, stdout, stderr). 128+N means signal N."""
    read_end, write_end = os.pipe()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            guard = subprocess.Popen(
                [sys.executable or "python3", "-I", GUARD, str(grace), "--", *argv],
                stdin=read_end,
                stdout=out,
                stderr=err,
                start_new_session=True,
                env=dict(env) if env is not None else None,
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        forwarding = _Forwarding(guard.pid)
        try:
            with forwarding:
                try:
                    code = guard.wait()
                except BaseException:
                    _stop(guard, grace)
                    raise
            forwarding.redeliver()
        finally:
            # Closing the pipe after the guard has ended is harmless; the guard only
            # acts on end of file while the CLI still runs.
            os.close(write_end)
        out.seek(0)
        err.seek(0)
        return code, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")


def _stderr_tail(stderr: str) -> str:
    text = stderr.strip()
    return text if len(text) <= STDERR_TAIL else "..." + text[-STDERR_TAIL:]


def _parse(stdout: str) -> Optional[Dict[str, Any]]:
    try:
        value = json.loads(stdout)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def ingest(
    executable: str,
    job_dir: str,
    *,
    datasets: str,
    force: bool,
    grace: float,
    env: Optional[Mapping[str, str]] = None,
) -> Dict[str, Any]:
    """The CLI's `--json` result of a successful ingest; an `errors.HysdsStacError` otherwise."""
    argv = [executable, "ingest", job_dir, "--json", "--datasets", datasets]
    if force:
        argv.append("--force")
    code, stdout, stderr = run(argv, grace=grace, env=env)
    result = _parse(stdout)
    if code == 0 and result is not None and result.get("ok") is True:
        return result
    cls = errors.class_for_exit_code(code)
    if result is not None and isinstance(result.get("error"), Mapping):
        tx = result.get("tx") if isinstance(result.get("tx"), str) else None
        rollback = result.get("rollback") if isinstance(result.get("rollback"), Mapping) else None
        error = errors.from_error_object(result["error"], fallback=cls, tx=tx, rollback=rollback)
        if not isinstance(error, cls):
            # The exit code is the CLI's contract; the JSON gives the words.
            error = cls(error.message, tag=error.tag, tx=tx, problems=error.problems, rollback=rollback)
        return _raise(error)
    if code > 128 and code - 128 in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
        name = signal.Signals(code - 128).name
        message = (
            f"interrupted error: hysds-stac was killed by {name} before it could finish\n"
            "hint: `hysds-stac recover` (or the next ingest of this job) rolls back whatever it had published"
        )
        return _raise(errors.IngestInterrupted(message))
    # No JSON: @effect/cli's usage errors and internal errors are printed on stderr
    # (already masked by the CLI).
    tail = _stderr_tail(stderr)
    message = f"{cls.category} error: hysds-stac exited with code {code}" + (f"\n{tail}" if tail else "")
    return _raise(cls(message))


def _raise(error: errors.HysdsStacError) -> Dict[str, Any]:
    raise error
