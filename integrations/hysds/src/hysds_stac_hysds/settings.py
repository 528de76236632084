"""
Where the hook finds what it needs on a worker: the datasets.json, the `hysds-stac`
executable, the kill grace. Read at call time, never at import time.
"""
from __future__ import annotations

import importlib
import logging
import os
import shutil
import sys
from typing import Any, Mapping, Optional

from .errors import ConfigurationError

log = logging.getLogger("hysds_stac_hysds")

DEFAULT_GRACE_SECONDS = 60.0


def _env(name: str, env: Mapping[str, str]) -> Optional[str]:
    value = env.get(name)
    return value if value else None


def _celery_datasets_cfg() -> Optional[str]:
    """`DATASETS_CFG` of the worker's Celery config module, when there is one.

    A HySDS worker runs with `celeryconfig` importable (Celery loads it by that
    name); it is already in sys.modules inside the worker. Outside a worker the
    import fails and that is not an error.
    """
    module = sys.modules.get("celeryconfig")
    if module is None:
        try:
            module = importlib.import_module("celeryconfig")
        except ImportError:
            return None
        except Exception as e:  # a broken config file is the worker's problem, not a reason to publish elsewhere
            raise ConfigurationError(
                f"config error: the worker's celeryconfig cannot be imported ({type(e).__name__})\n"
                "hint: fix celeryconfig.py, or set HYSDS_DATASETS_CFG to the datasets.json to use"
            ) from None
    value = getattr(module, "DATASETS_CFG", None)
    return value if isinstance(value, str) and value else None


def datasets_cfg(job_info: Mapping[str, Any], env: Mapping[str, str] = os.environ) -> str:
    """HYSDS_DATASETS_CFG, else the Celery config's DATASETS_CFG, else the file the
    worker recorded in the job (`job_info.datasets_cfg_file`, from its own
    HYSDS_DATASETS_CFG)."""
    chosen = _env("HYSDS_DATASETS_CFG", env) or _celery_datasets_cfg()
    if chosen is None:
        recorded = job_info.get("datasets_cfg_file")
        chosen = recorded if isinstance(recorded, str) and recorded else None
    if chosen is None:
        raise ConfigurationError(
            "config error: no datasets.json for hysds-stac\n"
            "hint: set HYSDS_DATASETS_CFG on the worker, or DATASETS_CFG in its celeryconfig"
        )
    return os.path.abspath(chosen)


def executable(env: Mapping[str, str] = os.environ) -> str:
    """HYSDS_STAC_BIN, else `hysds-stac` on the worker's PATH."""
    configured = _env("HYSDS_STAC_BIN", env)
    found = shutil.which(configured or "hysds-stac", path=env.get("PATH"))
    if found is None:
        what = f"HYSDS_STAC_BIN={configured}" if configured else "hysds-stac on PATH"
        raise ConfigurationError(
            f"config error: cannot run the hysds-stac executable ({what} not found or not executable)\n"
            "hint: install the executable built by scripts/setup.sh (dist/bin/hysds-stac) on the worker's PATH, or set HYSDS_STAC_BIN"
        )
    return found


def kill_grace(env: Mapping[str, str] = os.environ) -> float:
    """Seconds a stopped ingest gets to roll back before it is killed outright."""
    raw = _env("HYSDS_STAC_KILL_GRACE_SECONDS", env)
    if raw is None:
        return DEFAULT_GRACE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ConfigurationError(
            f"config error: HYSDS_STAC_KILL_GRACE_SECONDS must be a positive number of seconds, not {raw!r}"
        )
    return value
