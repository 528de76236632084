"""
Killing the job kills the ingest.

The hook runs in a process of its own (standing in for the Celery pool process that
runs the job), in its own process group, on a job large enough to be mid-publish
when the journal shows its files being copied. A worker's timeout SIGKILLs that
group: no ingest process may survive it, and after `hysds-stac recover` nothing is
published. A SIGTERM to the hook is forwarded: the ingest rolls back before the
hook dies of the signal.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

import hysds_stac_hysds

from conftest import NOTHING, cli_json, hysds_context, hysds_job, published, wait_for, write_job_files

ITEMS = 300


def generate(job_dir: Path, items: int, tag: str = "killtest") -> None:
    """One STAC catalog, a collection of `items` items with two 16 KiB assets each."""
    catalog_id, collection = f"stac_catalog_{tag}", f"{tag}-scenes"
    base = job_dir / catalog_id
    (base / collection / "items").mkdir(parents=True)

    def write(path: Path, value: object) -> None:
        path.write_text(json.dumps(value))

    write(base / "catalog.json", {
        "type": "Catalog", "stac_version": "1.1.0", "id": catalog_id, "description": "kill test",
        "links": [{"rel": "root", "href": "./catalog.json"}, {"rel": "child", "href": f"./{collection}/collection.json"}],
    })
    payload = b"\x07" * 16384
    links = []
    for i in range(items):
        item_id = f"{collection}-{i:05d}"
        d = base / collection / "items" / item_id
        d.mkdir()
        assets = {}
        for k in range(2):
            (d / f"asset-{k}.bin").write_bytes(payload)
            assets[f"asset-{k}"] = {"href": f"./asset-{k}.bin", "type": "application/octet-stream", "roles": ["data"]}
        x, y = (i % 360) - 180 + 0.25, ((i * 7) % 170) - 85 + 0.25
        write(d / f"{item_id}.json", {
            "type": "Feature", "stac_version": "1.1.0", "id": item_id, "collection": collection,
            "geometry": {"type": "Point", "coordinates": [x, y]}, "bbox": [x, y, x, y],
            "properties": {"datetime": "2024-01-01T00:00:00Z"},
            "links": [{"rel": "root", "href": "../../../catalog.json"}, {"rel": "parent", "href": "../../collection.json"}, {"rel": "collection", "href": "../../collection.json"}],
            "assets": assets,
        })
        links.append({"rel": "item", "href": f"./items/{item_id}/{item_id}.json"})
    write(base / collection / "collection.json", {
        "type": "Collection", "stac_version": "1.1.0", "id": collection, "description": "kill test", "license": "proprietary",
        "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [["2024-01-01T00:00:00Z", None]]}},
        "links": [{"rel": "root", "href": "../catalog.json"}, {"rel": "parent", "href": "../catalog.json"}, *links],
    })


@pytest.fixture
def big_job(tmp_path: Path) -> Path:
    job_dir = tmp_path / "jobs" / "big"
    job_dir.mkdir(parents=True)
    generate(job_dir, ITEMS)
    write_job_files(job_dir, hysds_job(job_dir), hysds_context())
    return job_dir


def start_hook(job_dir: Path) -> "subprocess.Popen[str]":
    """publish_datasets in a process of its own, leading its own process group."""
    src = str(Path(hysds_stac_hysds.__file__).parents[1])
    code = "import json, sys, hysds_stac_hysds; hysds_stac_hysds.publish_datasets(json.loads(sys.argv[1]), json.loads(sys.argv[2]))"
    env = dict(os.environ, PYTHONPATH=src)
    return subprocess.Popen(
        [sys.executable, "-c", code, json.dumps(hysds_job(job_dir)), json.dumps(hysds_context())],
        env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def records(file: Path) -> List[Dict[str, object]]:
    """A journal file's records (each line: CRC, space, JSON); a torn last line is skipped."""
    out = []
    for line in file.read_text().splitlines():
        try:
            out.append(json.loads(line.split(" ", 1)[1]))
        except (IndexError, ValueError):
            pass
    return out


def copying_files(state: Path) -> bool:
    """The open transaction has recorded its PutObjects intent: files are being published."""
    journal = state / "journal"
    if not journal.is_dir():
        return False
    return any(r.get("_tag") == "Intent" and (r.get("action") or {}).get("_tag") == "PutObjects"
               for f in journal.glob("*.jsonl") for r in records(f))


def ingest_processes(job_dir: Path) -> List[int]:
    """Processes running `... ingest <job_dir> ...`: the CLI and its guard."""
    needle = b"\0ingest\0" + str(job_dir).encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def outcome(state: Path) -> List[str]:
    """The End outcome of every transaction; one with no End yet counts as 'open'."""
    files = list((state / "journal").glob("*.jsonl")) + list((state / "journal" / "finished").glob("*.jsonl"))
    ends = []
    for f in files:
        end = [r for r in records(f) if r.get("_tag") == "End"]
        ends.append(str(end[-1].get("outcome")) if end else "open")
    return ends


def test_sigkill_of_the_hooks_process_group_leaves_no_ingest_and_nothing_published(state_dir, big_job, hysds_stac_bin):
    hook = start_hook(big_job)
    wait_for(lambda: copying_files(state_dir) or hook.poll() is not None, "the journal's PutObjects intent")
    assert hook.poll() is None, f"the hook ended before the kill:\n{hook.stdout.read() if hook.stdout else ''}"
    assert ingest_processes(big_job), "no ingest process found while copying"
    os.killpg(hook.pid, signal.SIGKILL)
    hook.wait()

    wait_for(lambda: not ingest_processes(big_job), "every ingest process to end after the hook's death")
    recovered = cli_json(hysds_stac_bin, state_dir, "recover")
    assert recovered["ok"] is True
    assert outcome(state_dir) == ["aborted"], "the ingest committed: it went on publishing after the hook was killed (or finished before the kill)"
    assert published(hysds_stac_bin, state_dir) == NOTHING
    assert not (big_job / "_datasets.json").exists()


def test_sigterm_to_the_hook_rolls_the_ingest_back_before_the_hook_dies(state_dir, big_job, hysds_stac_bin):
    hook = start_hook(big_job)
    wait_for(lambda: copying_files(state_dir) or hook.poll() is not None, "the journal's PutObjects intent")
    assert hook.poll() is None, f"the hook ended before the signal:\n{hook.stdout.read() if hook.stdout else ''}"
    os.kill(hook.pid, signal.SIGTERM)
    assert hook.wait(timeout=300) == -signal.SIGTERM
    # The hook let the signal kill it only once the ingest had rolled back.
    assert ingest_processes(big_job) == []
    assert outcome(state_dir) == ["aborted"]
    assert published(hysds_stac_bin, state_dir) == NOTHING
    assert not (big_job / "_datasets.json").exists()
