"""
Fixtures for the hook's tests: HySDS-shaped job and context dicts over a copy of an
example job, a private state dir (the embedded default backends: a local store and
SQLite, the real implementations the CLI ships), the compiled `hysds-stac`
executable, and helpers that look at what was published through that executable.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"
DATASETS = EXAMPLES / "datasets.json"


def executable() -> str:
    return os.environ.get("HYSDS_STAC_TEST_BIN") or str(REPO / "dist" / "bin" / "hysds-stac")


@pytest.fixture(scope="session")
def hysds_stac_bin() -> str:
    path = executable()
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: build it with `bash scripts/build-cli.sh` (scripts/setup.sh does)")
    return path


def hysds_job(job_dir: Path, *, status: int = 0, pid: int = 4242, task_id: str = "a3b5c7d9-task") -> Dict[str, Any]:
    """The job dict as a HySDS worker passes it to a post-processor (job_worker.run_job)."""
    return {
        "job_id": f"job-{job_dir.name}",
        "task_id": task_id,
        "type": "job-publish-stac:develop",
        "priority": 0,
        "payload_id": "payload-1",
        "payload_hash": "9f2c6a1e",
        "params": {
            "job_specification": {
                "command": "/home/ops/verdi/ops/sciflo/run.sh",
                "disable_post_builtins": True,
                "post": ["hysds_stac_hysds.publish_datasets"],
            }
        },
        "job_info": {
            "id": f"job-{job_dir.name}",
            "job_dir": str(job_dir),
            "status": status,
            "pid": pid,
            "datasets_cfg_file": str(DATASETS),
            "payload_hash": "9f2c6a1e",
            "job_payload": {"job_type": "job-publish-stac", "payload_task_id": task_id},
            "cmd_start": "2026-12-01T10:00:00.000000Z",
            "cmd_end": "2026-12-01T10:05:00.000000Z",
            "metrics": {"inputs_localized": [], "products_staged": [], "job_dir_size": 0, "usage_stats": []},
        },
    }


def hysds_context(task_id: str = "a3b5c7d9-task", force: bool = False) -> Dict[str, Any]:
    """The job's `_context.json` as the worker writes it (and passes it)."""
    return {
        "_force_ingest": force,
        "_prov": {"wasGeneratedBy": f"task_id:{task_id}"},
        "container_image_name": None,
        "job_priority": 0,
        "job_specification": {"disable_post_builtins": True, "post": ["hysds_stac_hysds.publish_datasets"]},
    }


def write_job_files(job_dir: Path, job: Dict[str, Any], context: Dict[str, Any]) -> None:
    """`_job.json` and `_context.json` as the worker leaves them in the job dir."""
    (job_dir / "_job.json").write_text(json.dumps(job, indent=2, sort_keys=True))
    (job_dir / "_context.json").write_text(json.dumps(context, indent=2, sort_keys=True))


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hysds_stac_bin: str) -> Path:
    """A private embedded default, and the worker's environment pointing at it."""
    state = tmp_path / "state"
    for name in list(os.environ):
        if name.startswith(("HYSDS_STAC", "GRQ_ES_", "STAC_API_", "S3_")) or name == "HYSDS_DATASETS_CFG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HYSDS_STAC_HOME", str(state))
    monkeypatch.setenv("HYSDS_STAC_BIN", hysds_stac_bin)
    monkeypatch.setenv("HYSDS_DATASETS_CFG", str(DATASETS))
    return state


@pytest.fixture
def mixed_job(tmp_path: Path) -> Callable[..., Path]:
    """A fresh copy of examples/mixed-job (or another example) with HySDS's job files."""

    def make(example: str = "mixed-job", name: str = "job") -> Path:
        job_dir = tmp_path / "jobs" / name
        shutil.copytree(EXAMPLES / example, job_dir, symlinks=True)
        write_job_files(job_dir, hysds_job(job_dir), hysds_context())
        return job_dir

    return make


def cli_json(bin_path: str, state: Path, *args: str) -> Any:
    out = subprocess.run([bin_path, *args, "--json", "--state-dir", str(state)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def published(bin_path: str, state: Path) -> Dict[str, List[str]]:
    """What an ingest leaves behind: GRQ documents, STAC collections, stored files.
    (A STAC item cannot exist without its collection.)"""
    docs = cli_json(bin_path, state, "grq", "list")
    collections = cli_json(bin_path, state, "stac", "collections")
    store = state / "store"
    files = sorted(str(p.relative_to(store)) for p in store.rglob("*") if p.is_file()) if store.exists() else []
    return {"documents": sorted(d["id"] for d in docs), "collections": sorted(c["id"] for c in collections), "files": files}


def stac_items(bin_path: str, state: Path, collection: str) -> List[str]:
    return sorted(i["id"] for i in cli_json(bin_path, state, "stac", "items", collection))


NOTHING = {"documents": [], "collections": [], "files": []}


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    """Polls until `condition()` is truthy; fails naming `what` after the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)
