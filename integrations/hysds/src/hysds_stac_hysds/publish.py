"""
`publish_datasets(job, context)`: the HySDS post-processor.

A job specification that sets `"disable_post_builtins": true` and
`"post": ["hysds_stac_hysds.publish_datasets"]` makes the worker call this instead
of `hysds.dataset_ingest_bulk.publish_datasets`, with the same arguments: `job` (the
job dict, whose `job_info` holds `job_dir`, `status` = the command's exit code,
`pid`) and `context` (the job's `_context.json`). It returns True to let the worker
go on; an exception fails the job, and its message becomes the job's error.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Dict, Mapping

from . import cli, errors, service, settings

log = logging.getLogger("hysds_stac_hysds")


def _job_dir(job_info: Mapping[str, Any]) -> str:
    job_dir = job_info.get("job_dir")
    if not isinstance(job_dir, str) or not job_dir:
        raise errors.UsageError("usage error: job_info.job_dir is missing: publish_datasets must be called by a HySDS job worker with the job dict")
    if not os.path.isdir(job_dir):
        raise errors.InvalidJobError(f"validation error: the job dir {job_dir} does not exist or is not a directory")
    return os.path.abspath(job_dir)


def _summary(result: Mapping[str, Any]) -> str:
    totals = result.get("totals") if isinstance(result.get("totals"), Mapping) else {}
    return ", ".join(f"{totals[k]} {k}" for k in ("products", "items", "documents", "files") if k in totals)


def publish_datasets(job: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    job_info = job.get("job_info") if isinstance(job.get("job_info"), Mapping) else {}
    # As HySDS's own publisher: nothing of a failed job, nor of a command that never ran.
    if "status" in job_info and job_info["status"] != 0:
        log.info("Job exited with exit code %s. Bypassing dataset publishing.", job_info["status"])
        return True
    if "pid" in job_info and job_info["pid"] == 0:
        log.info("Job command never ran. Bypassing dataset publishing.")
        return True
    job_dir = _job_dir(job_info)
    force = isinstance(context, Mapping) and context.get("_force_ingest") is True
    env = os.environ
    url = env.get("HYSDS_STAC_URL")
    if url:
        status = service.ingest(url, job_dir, force=force, key=service.api_key(env))
        result: Dict[str, Any] = status.get("result") if isinstance(status.get("result"), dict) else {}
        log.info("hysds-stac: published %s from %s (ingest %s)", _summary(result), job_dir, status.get("id"))
        return True
    result = cli.ingest(
        settings.executable(env),
        job_dir,
        datasets=settings.datasets_cfg(job_info, env),
        force=force,
        grace=settings.kill_grace(env),
    )
    log.info("hysds-stac: published %s from %s (transaction %s)", _summary(result), job_dir, result.get("tx"))
    return True
