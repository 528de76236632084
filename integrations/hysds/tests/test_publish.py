"""
publish_datasets(job, context) called as a HySDS worker calls a post-processor, with
the compiled hysds-stac executable on the embedded default backends.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import hysds_stac_hysds
from hysds_stac_hysds import errors, settings

from conftest import NOTHING, hysds_context, hysds_job, published, stac_items, write_job_files


def test_a_mixed_job_is_published_and_datasets_json_written(state_dir, mixed_job, hysds_stac_bin):
    job_dir = mixed_job()
    assert hysds_stac_hysds.publish_datasets(hysds_job(job_dir), hysds_context()) is True

    docs = json.loads((job_dir / "_datasets.json").read_text())
    assert sorted(d["id"] for d in docs) == [
        "AOI_volcano_etna",
        "S1-IFG_RM_20240115T103000_20240116T103000_etna",
        "etna-scene-001",
        "etna-scene-002",
        "etna-scene-003",
    ]
    # `_prov` comes from the job's _context.json, as HySDS stamps it.
    assert {json.dumps(d["prov"], sort_keys=True) for d in docs} == {json.dumps({"wasGeneratedBy": "task_id:a3b5c7d9-task"})}
    landed = published(hysds_stac_bin, state_dir)
    assert landed["documents"] == sorted(d["id"] for d in docs)
    assert landed["collections"] == ["etna-scenes"]
    assert stac_items(hysds_stac_bin, state_dir, "etna-scenes") == ["etna-scene-001", "etna-scene-002", "etna-scene-003"]
    # The .localized input is never published.
    assert not any("S1-SLC_20240101T000000_input" in f for f in landed["files"])


@pytest.mark.parametrize("status,pid", [(1, 4242), (137, 4242), (0, 0)], ids=["exit-1", "killed", "never-ran"])
def test_a_failed_job_or_a_command_that_never_ran_publishes_nothing(state_dir, mixed_job, hysds_stac_bin, status, pid):
    job_dir = mixed_job("failed-job")
    job = hysds_job(job_dir, status=status, pid=pid)
    write_job_files(job_dir, job, hysds_context())
    assert hysds_stac_hysds.publish_datasets(job, hysds_context()) is True
    assert not (job_dir / "_datasets.json").exists()
    # The CLI never ran: not even the embedded state dir was created.
    assert not state_dir.exists()


def test_an_invalid_catalog_fails_the_job_naming_the_file(state_dir, mixed_job, hysds_stac_bin):
    job_dir = mixed_job()
    item = job_dir / "stac_catalog_20240115_etna/etna-scenes/items/etna-scene-002/etna-scene-002.json"
    doc = json.loads(item.read_text())
    doc["assets"]["data"]["href"] = "../../../../_job.json"
    item.write_text(json.dumps(doc))

    with pytest.raises(hysds_stac_hysds.InvalidJobError) as caught:
        hysds_stac_hysds.publish_datasets(hysds_job(job_dir), hysds_context())
    message = str(caught.value)
    assert message.startswith("validation error: ")
    assert "stac_catalog_20240115_etna/etna-scenes/items/etna-scene-002/etna-scene-002.json $.assets.data.href" in message
    assert "resolves outside the catalog directory" in message
    assert caught.value.exit_code == 4 and caught.value.category == "validation"
    assert not (job_dir / "_datasets.json").exists()
    assert published(hysds_stac_bin, state_dir) == NOTHING


def test_a_second_publish_is_a_conflict_and_leaves_the_first(state_dir, mixed_job, hysds_stac_bin):
    job_dir = mixed_job()
    assert hysds_stac_hysds.publish_datasets(hysds_job(job_dir), hysds_context()) is True
    before = published(hysds_stac_bin, state_dir)
    first = (job_dir / "_datasets.json").read_text()

    again = mixed_job(name="retry")
    with pytest.raises(hysds_stac_hysds.ConflictError) as caught:
        hysds_stac_hysds.publish_datasets(hysds_job(again), hysds_context())
    assert "already exists" in str(caught.value)
    assert str(caught.value).startswith("conflict error: ")
    assert "hint: " in str(caught.value)
    assert caught.value.tx and caught.value.tx.startswith("ingest-")
    assert not (again / "_datasets.json").exists()
    assert (job_dir / "_datasets.json").read_text() == first
    assert published(hysds_stac_bin, state_dir) == before


def test_force_ingest_from_the_context_publishes_again(state_dir, mixed_job, hysds_stac_bin):
    job_dir = mixed_job()
    assert hysds_stac_hysds.publish_datasets(hysds_job(job_dir), hysds_context()) is True
    again = mixed_job(name="reprocessed")
    # The worker's _context.json has _force_ingest from the job's publish_overwrite_ok;
    # the context dict it passes is what decides here.
    assert hysds_stac_hysds.publish_datasets(hysds_job(again), hysds_context(force=True)) is True
    docs = json.loads((again / "_datasets.json").read_text())
    assert len(docs) == 5
    assert published(hysds_stac_bin, state_dir)["documents"] == sorted(d["id"] for d in docs)


def test_a_backend_failure_maps_to_its_exception_without_the_secret(state_dir, mixed_job, monkeypatch):
    # A GRQ cluster nobody listens on, its password in the URL: exit 7, and the
    # message (the job status HySDS shows to anyone) must not carry the password.
    monkeypatch.setenv("GRQ_ES_ENGINE", "opensearch")
    monkeypatch.setenv("GRQ_ES_URL", "http://grq-user:hunter2-s3cret@127.0.0.1:9")
    monkeypatch.setenv("HYSDS_STAC_RETRIES", "0")
    job_dir = mixed_job()
    with pytest.raises(hysds_stac_hysds.GrqIndexError) as caught:
        hysds_stac_hysds.publish_datasets(hysds_job(job_dir), hysds_context())
    assert str(caught.value).startswith("index error: ")
    assert "hunter2-s3cret" not in str(caught.value)
    assert not (job_dir / "_datasets.json").exists()


def test_a_missing_executable_is_a_configuration_error(state_dir, mixed_job, monkeypatch, tmp_path):
    monkeypatch.setenv("HYSDS_STAC_BIN", str(tmp_path / "nowhere" / "hysds-stac"))
    job_dir = mixed_job()
    with pytest.raises(hysds_stac_hysds.ConfigurationError, match="HYSDS_STAC_BIN"):
        hysds_stac_hysds.publish_datasets(hysds_job(job_dir), hysds_context())


def test_datasets_file_env_wins_then_celeryconfig_then_the_job(monkeypatch, tmp_path):
    job_info = {"datasets_cfg_file": "/from/the/job.json"}
    monkeypatch.delitem(sys.modules, "celeryconfig", raising=False)
    assert settings.datasets_cfg(job_info, {}) == "/from/the/job.json"

    # The worker's Celery config, importable as `celeryconfig` the way Celery loads it.
    (tmp_path / "celeryconfig.py").write_text("DATASETS_CFG = '/from/celeryconfig.json'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert settings.datasets_cfg(job_info, {}) == "/from/celeryconfig.json"
    assert settings.datasets_cfg(job_info, {"HYSDS_DATASETS_CFG": "/from/env.json"}) == "/from/env.json"
    # An empty variable counts as unset.
    assert settings.datasets_cfg(job_info, {"HYSDS_DATASETS_CFG": ""}) == "/from/celeryconfig.json"
    monkeypatch.delitem(sys.modules, "celeryconfig")

    # A celeryconfig without DATASETS_CFG, nothing in the job, no variable: said clearly.
    (tmp_path / "celeryconfig.py").write_text("BROKER_URL = 'amqp://'\n")
    with pytest.raises(errors.ConfigurationError, match="set HYSDS_DATASETS_CFG"):
        settings.datasets_cfg({}, {})
    monkeypatch.delitem(sys.modules, "celeryconfig")


def test_importing_the_hook_imports_neither_hysds_nor_celery():
    import subprocess

    code = "import sys, hysds_stac_hysds; print(sorted(m for m in sys.modules if m.split('.')[0] in ('hysds', 'celery', 'celeryconfig')))"
    src = str(Path(hysds_stac_hysds.__file__).parents[1])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": src}, check=True)
    assert out.stdout.strip() == "[]"


def test_error_paragraphs_and_exit_codes():
    assert errors.class_for_exit_code(3) is errors.ConfigurationError
    assert errors.class_for_exit_code(5) is errors.ConflictError
    assert errors.class_for_exit_code(6) is errors.StorageError
    assert errors.class_for_exit_code(7) is errors.GrqIndexError
    assert errors.class_for_exit_code(8) is errors.StacApiError
    assert errors.class_for_exit_code(130) is errors.IngestInterrupted
    assert errors.class_for_exit_code(137) is errors.IngestInterrupted
    assert errors.class_for_exit_code(42) is errors.InternalError
    problems = [{"file": f"items/{i}.json", "path": "$.id", "message": "bad id"} for i in range(errors.MAX_PROBLEMS + 3)]
    text = errors.paragraph({"category": "validation", "message": "2 problems", "hint": "fix them", "problems": problems})
    lines = text.split("\n")
    assert lines[0] == "validation error: 2 problems"
    assert lines[1] == "  - items/0.json $.id: bad id"
    assert lines[-2] == "  ... and 3 more problems (hysds-stac validate <job-dir> lists them all)"
    assert lines[-1] == "hint: fix them"


def test_the_example_job_spec_names_this_hook_as_the_worker_resolves_it():
    import importlib

    spec = json.loads((Path(__file__).parents[1] / "examples" / "job-spec.json.publish-stac").read_text())
    assert spec["disable_post_builtins"] is True
    # HySDS's worker splits the dotted name at the last dot, imports, and takes the attribute.
    module, function = spec["post"][0].rsplit(".", 1)
    assert getattr(importlib.import_module(module), function) is hysds_stac_hysds.publish_datasets
