"""
One exception class per failure category of hysds-stac, so a HySDS job fails with a
message that says what to fix.

The categories and exit codes are the CLI's (packages/cli/src/ExitCode.ts); the
message is the paragraph the CLI prints for the error (core's `Errors.describe`):
``<category> error: <message>``, one ``  - <file> <path>: <problem>`` line per
problem, then ``hint: <hint>``. HySDS shows ``str(exception)`` as the job's error.
The CLI and the server mask every configured secret in what they output, and this
module builds messages only from that output, never from the environment.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Type

# A job dir with thousands of broken items would otherwise put a megabyte into the
# job status document; the rest is one `hysds-stac validate` away.
MAX_PROBLEMS = 50


class HysdsStacError(Exception):
    """An ingest that did not publish; `category` says whose move it is."""

    category = "internal"
    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        tag: Optional[str] = None,
        tx: Optional[str] = None,
        problems: Optional[List[Mapping[str, Any]]] = None,
        rollback: Optional[Mapping[str, Any]] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.tag = tag
        self.tx = tx
        self.problems = list(problems or [])
        self.rollback = rollback


class InternalError(HysdsStacError):
    """A bug in hysds-stac (exit 1), or a recovery that could not finish."""

    category = "internal"
    exit_code = 1


class UsageError(HysdsStacError):
    """The CLI was called wrongly (exit 2): a bug in this hook or a CLI of another version."""

    category = "usage"
    exit_code = 2


class ConfigurationError(HysdsStacError):
    """datasets.json or a backend setting is wrong (exit 3): fix the worker's configuration."""

    category = "config"
    exit_code = 3


class InvalidJobError(HysdsStacError):
    """The job dir is not publishable (exit 4): fix the job's output; a retry fails the same way."""

    category = "validation"
    exit_code = 4


class ConflictError(HysdsStacError):
    """Already published, or being published by another ingest (exit 5): do not retry as is."""

    category = "conflict"
    exit_code = 5


class StorageError(HysdsStacError):
    """The object store failed (exit 6); everything was rolled back: retry later."""

    category = "storage"
    exit_code = 6


class GrqIndexError(HysdsStacError):
    """The GRQ index failed (exit 7); everything was rolled back: retry later."""

    category = "index"
    exit_code = 7


class StacApiError(HysdsStacError):
    """The STAC API failed (exit 8); everything was rolled back: retry later."""

    category = "catalog-api"
    exit_code = 8


class IngestInterrupted(HysdsStacError):
    """The ingest was stopped by a signal and rolled back (exit 130)."""

    category = "interrupted"
    exit_code = 130


class ServiceUnavailable(HysdsStacError):
    """HTTP mode only: the service is busy (429), shutting down (503) or unreachable: retry later."""

    category = "unavailable"
    exit_code = 75


_BY_CATEGORY: Dict[str, Type[HysdsStacError]] = {
    cls.category: cls
    for cls in (
        InternalError,
        UsageError,
        ConfigurationError,
        InvalidJobError,
        ConflictError,
        StorageError,
        GrqIndexError,
        StacApiError,
        IngestInterrupted,
        ServiceUnavailable,
    )
}
_BY_EXIT_CODE: Dict[int, Type[HysdsStacError]] = {cls.exit_code: cls for cls in _BY_CATEGORY.values()}


def class_for_category(category: Any) -> Type[HysdsStacError]:
    return _BY_CATEGORY.get(category if isinstance(category, str) else "", InternalError)


def class_for_exit_code(code: int) -> Type[HysdsStacError]:
    if code in _BY_EXIT_CODE:
        return _BY_EXIT_CODE[code]
    # Killed by a signal: the CLI never got to roll back, `recover` (or the next ingest) will.
    if code < 0 or code > 128:
        return IngestInterrupted
    return InternalError


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def paragraph(error: Mapping[str, Any], category: Optional[str] = None) -> str:
    """The CLI's paragraph for an error object of `--json` output or of the HTTP API."""
    cat = _text(error.get("category")) or category or "internal"
    lines = [f"{cat} error: {_text(error.get('message')) or 'failed without a message'}"]
    problems = error.get("problems")
    if isinstance(problems, list):
        for p in problems[:MAX_PROBLEMS]:
            if not isinstance(p, Mapping):
                continue
            where = _text(p.get("file"))
            if _text(p.get("path")):
                where += f" {p['path']}"
            lines.append(f"  - {where}: {_text(p.get('message'))}")
        if len(problems) > MAX_PROBLEMS:
            lines.append(f"  ... and {len(problems) - MAX_PROBLEMS} more problems (hysds-stac validate <job-dir> lists them all)")
    hint = _text(error.get("hint"))
    if hint:
        lines.append(f"hint: {hint}")
    return "\n".join(lines)


def from_error_object(
    error: Mapping[str, Any],
    *,
    fallback: Type[HysdsStacError] = InternalError,
    tx: Optional[str] = None,
    rollback: Optional[Mapping[str, Any]] = None,
) -> HysdsStacError:
    """The exception for an `error` object ({category, message, hint?, problems?, tag?})."""
    category = error.get("category")
    cls = class_for_category(category) if isinstance(category, str) and category in _BY_CATEGORY else fallback
    problems = error.get("problems")
    return cls(
        paragraph(error, cls.category),
        tag=_text(error.get("tag")) or None,
        tx=tx,
        problems=problems if isinstance(problems, list) else None,
        rollback=rollback,
    )
