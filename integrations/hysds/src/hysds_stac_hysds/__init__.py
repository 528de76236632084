"""
hysds-stac as a HySDS job-worker post-processor.

In a job specification::

    "disable_post_builtins": true,
    "post": ["hysds_stac_hysds.publish_datasets"]

Importing this package imports nothing of HySDS or Celery (standard library only).
"""
from .errors import (
    ConfigurationError,
    ConflictError,
    GrqIndexError,
    HysdsStacError,
    IngestInterrupted,
    InternalError,
    InvalidJobError,
    ServiceUnavailable,
    StacApiError,
    StorageError,
    UsageError,
)
from .publish import publish_datasets

__all__ = [
    "publish_datasets",
    "HysdsStacError",
    "ConfigurationError",
    "ConflictError",
    "GrqIndexError",
    "IngestInterrupted",
    "InternalError",
    "InvalidJobError",
    "ServiceUnavailable",
    "StacApiError",
    "StorageError",
    "UsageError",
]
