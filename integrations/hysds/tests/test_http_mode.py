"""
HTTP mode: with HYSDS_STAC_URL set, publish_datasets submits the job dir to a real
`bun run serve` (started here on a free port, embedded default backends) and follows
the ingest to its end.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path
from typing import Iterator, List

import pytest

import hysds_stac_hysds

from conftest import DATASETS, EXAMPLES, REPO, hysds_context, hysds_job, wait_for, write_job_files

KEY = "hook-test-key-7f3a"


class Server:
    def __init__(self, root: Path) -> None:
        self.jobs = root / "jobs"
        self.jobs.mkdir(parents=True)
        self.state = root / "state"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HYSDS_STAC", "GRQ_ES_", "STAC_API_", "S3_"))}
        env.update(
            HYSDS_STAC_API_KEYS=KEY,
            HYSDS_STAC_ALLOWED_ROOTS=str(self.jobs),
            HYSDS_DATASETS_CFG=str(DATASETS),
            HYSDS_STAC_HOME=str(self.state),
            HYSDS_STAC_SERVER_PORT="0",
        )
        self.lines: List[str] = []
        self.proc = subprocess.Popen(
            ["bun", "run", "serve"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.url = wait_for(self._listening, "the server's `listening` log line", timeout=180)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def _listening(self) -> str:
        if self.proc.poll() is not None:
            pytest.fail("the server exited:\n" + "".join(self.lines))
        for line in list(self.lines):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("message") == "listening":
                return entry["url"]
        return ""

    def job(self, name: str, example: str = "mixed-job") -> Path:
        job_dir = self.jobs / name
        shutil.copytree(EXAMPLES / example, job_dir, symlinks=True)
        write_job_files(job_dir, hysds_job(job_dir), hysds_context())
        return job_dir

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("serve"))
    yield s
    s.stop()


@pytest.fixture
def http_mode(server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    for name in list(os.environ):
        if name.startswith("HYSDS_STAC") or name == "HYSDS_DATASETS_CFG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HYSDS_STAC_URL", server.url)
    monkeypatch.setenv("HYSDS_STAC_API_KEY", KEY)
    # No executable at all: HTTP mode must not need one.
    monkeypatch.setenv("HYSDS_STAC_BIN", "/nonexistent/hysds-stac")
    return server


def test_http_mode_publishes_then_conflicts_then_forces(http_mode: Server):
    job_dir = http_mode.job("published")
    assert hysds_stac_hysds.publish_datasets(hysds_job(job_dir), hysds_context()) is True
    docs = json.loads((job_dir / "_datasets.json").read_text())
    assert len(docs) == 5

    again = http_mode.job("again")
    with pytest.raises(hysds_stac_hysds.ConflictError) as caught:
        hysds_stac_hysds.publish_datasets(hysds_job(again), hysds_context())
    assert "already exists" in str(caught.value)
    assert str(caught.value).startswith("conflict error: ")
    assert not (again / "_datasets.json").exists()

    assert hysds_stac_hysds.publish_datasets(hysds_job(again), hysds_context(force=True)) is True
    assert len(json.loads((again / "_datasets.json").read_text())) == 5


def test_http_mode_invalid_catalog_names_the_file(http_mode: Server):
    job_dir = http_mode.job("invalid")
    collection = job_dir / "stac_catalog_20240115_etna/etna-scenes/collection.json"
    doc = json.loads(collection.read_text())
    doc["links"].append({"rel": "child", "href": "../catalog.json", "type": "application/json"})
    collection.write_text(json.dumps(doc))
    with pytest.raises(hysds_stac_hysds.InvalidJobError) as caught:
        hysds_stac_hysds.publish_datasets(hysds_job(job_dir), hysds_context())
    assert "stac_catalog_20240115_etna/etna-scenes/collection.json" in str(caught.value)
    assert "link cycle" in str(caught.value)
    assert not (job_dir / "_datasets.json").exists()


def test_http_mode_failed_job_is_not_submitted(http_mode: Server):
    job_dir = http_mode.job("failed", "failed-job")
    assert hysds_stac_hysds.publish_datasets(hysds_job(job_dir, status=2), hysds_context()) is True
    assert not (job_dir / "_datasets.json").exists()


def test_http_mode_wrong_key_is_a_configuration_error(http_mode: Server, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HYSDS_STAC_API_KEY", "not-the-key")
    job_dir = http_mode.job("wrong-key")
    with pytest.raises(hysds_stac_hysds.ConfigurationError, match="refused the API key") as caught:
        hysds_stac_hysds.publish_datasets(hysds_job(job_dir), hysds_context())
    assert "not-the-key" not in str(caught.value)
