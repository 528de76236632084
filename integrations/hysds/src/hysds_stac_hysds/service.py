"""
HTTP mode: the ingest runs in a hysds-stac service (`bun run serve`, see
packages/server/README.md) instead of a CLI process on the worker.

The hook submits `POST /v1/ingests {jobDir, force}` and follows
`GET /v1/ingests/{id}` to its end, rather than holding one request open with
`?wait=true`: a dropped connection or a proxy's idle timeout then costs one poll,
not the ingest's outcome. The service must see the job dir at the same path (a
shared filesystem, or the same host) under one of its HYSDS_STAC_ALLOWED_ROOTS, and
uses its own datasets.json (its HYSDS_DATASETS_CFG).

Killing the job does not stop a service-side ingest (the service has no cancel
route); it finishes or rolls back on its own, and a retry of the job that finds it
still running follows it (409 IngestInProgress names it).
"""
from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Mapping, Optional, Tuple

from . import errors

log = logging.getLogger("hysds_stac_hysds")

FINAL_STATES = ("succeeded", "failed", "rolled_back")


def api_key(env: Mapping[str, str] = os.environ) -> str:
    key = env.get("HYSDS_STAC_API_KEY") or ""
    key_file = env.get("HYSDS_STAC_API_KEY_FILE") or ""
    if not key and key_file:
        try:
            with open(key_file, encoding="utf-8") as f:
                key = f.read().strip()
        except OSError as e:
            raise errors.ConfigurationError(
                f"config error: cannot read HYSDS_STAC_API_KEY_FILE {key_file}: {e.strerror}"
            ) from None
    if not key:
        raise errors.ConfigurationError(
            "config error: HYSDS_STAC_URL is set but no API key for it\n"
            "hint: set HYSDS_STAC_API_KEY or HYSDS_STAC_API_KEY_FILE on the worker"
        )
    return key


class _Client:
    def __init__(self, base_url: str, key: str, *, request_timeout: float, retry_seconds: float) -> None:
        self.base = base_url.rstrip("/")
        self.key = key
        self.request_timeout = request_timeout
        self.retry_seconds = retry_seconds

    def call(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None) -> Tuple[int, Dict[str, Any]]:
        """(status, JSON body); connection failures are retried for `retry_seconds`."""
        data = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {"X-Api-Key": self.key, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        deadline = time.monotonic() + self.retry_seconds
        wait = 0.5
        while True:
            request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.request_timeout) as response:
                    return response.status, _json(response.read())
            except urllib.error.HTTPError as e:
                return e.code, _json(e.read())
            except (urllib.error.URLError, OSError) as e:
                if time.monotonic() >= deadline:
                    reason = getattr(e, "reason", e)
                    raise errors.ServiceUnavailable(
                        f"unavailable error: the hysds-stac service at {_display(self.base)} did not answer ({reason})\n"
                        "hint: check HYSDS_STAC_URL and that the service runs; nothing was published by this request"
                    ) from None
                time.sleep(wait)
                wait = min(wait * 2, 10.0)


def _json(raw: bytes) -> Dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _display(url: str) -> str:
    """The URL without any user:password part."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _refused(status: int, body: Mapping[str, Any]) -> errors.HysdsStacError:
    """A submission the service did not accept (nothing was queued)."""
    tag = body.get("_tag") if isinstance(body.get("_tag"), str) else f"HTTP {status}"
    message = body.get("message") if isinstance(body.get("message"), str) else f"HTTP {status}"
    if status in (401,):
        return errors.ConfigurationError(
            f"config error: the hysds-stac service refused the API key ({tag})\n"
            "hint: set HYSDS_STAC_API_KEY (or HYSDS_STAC_API_KEY_FILE) to a key the service accepts"
        )
    if status == 403:
        return errors.ConfigurationError(
            f"config error: {message}\nhint: the job dir must lie under one of the service's HYSDS_STAC_ALLOWED_ROOTS"
        )
    if status == 422:
        return errors.InvalidJobError(f"validation error: {message}", tag=tag)
    if status in (429, 503):
        return errors.ServiceUnavailable(f"unavailable error: {message} ({tag})\nhint: nothing was published; retry the job later", tag=tag)
    if status in (400, 413, 415):
        return errors.UsageError(f"usage error: {message} ({tag})", tag=tag)
    return errors.InternalError(f"internal error: the hysds-stac service answered HTTP {status}: {message}", tag=tag)


def ingest(
    base_url: str,
    job_dir: str,
    *,
    force: bool,
    key: str,
    poll_seconds: float = 5.0,
    request_timeout: float = 60.0,
    retry_seconds: float = 120.0,
) -> Dict[str, Any]:
    """The ingest's final status (state `succeeded`); an `errors.HysdsStacError` otherwise."""
    client = _Client(base_url, key, request_timeout=request_timeout, retry_seconds=retry_seconds)
    status, body = client.call("POST", "/v1/ingests", {"jobDir": job_dir, "force": force})
    if status == 202 and isinstance(body.get("id"), str):
        ingest_id = body["id"]
    elif status == 409 and body.get("_tag") == "IngestInProgress" and isinstance(body.get("id"), str):
        # An earlier attempt of this job (its hook died) is still running there: its outcome is ours.
        ingest_id = body["id"]
        log.info("hysds-stac: %s is already being ingested as %s; following it", job_dir, ingest_id)
    else:
        raise _refused(status, body)
    path = "/v1/ingests/" + urllib.parse.quote(ingest_id, safe="")
    wait = 0.2
    while True:
        status, body = client.call("GET", path)
        if status == 404:
            raise errors.ServiceUnavailable(
                f"unavailable error: the hysds-stac service no longer knows ingest {ingest_id} (it restarted and rolled unfinished ingests back)\n"
                "hint: retry the job"
            )
        if status != 200:
            raise _refused(status, body)
        state = body.get("state")
        if state in FINAL_STATES:
            break
        time.sleep(wait)
        wait = min(wait * 1.5, poll_seconds)
    if state == "succeeded":
        return body
    error = body.get("error") if isinstance(body.get("error"), Mapping) else {"category": "internal", "message": f"ingest {ingest_id} ended {state}"}
    rollback = body.get("rollback") if isinstance(body.get("rollback"), Mapping) else None
    raise errors.from_error_object(error, tx=ingest_id, rollback=rollback)
