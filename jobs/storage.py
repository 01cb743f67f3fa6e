"""Where job files live: the ``jobs`` storage of ``STORAGES`` (Django's storage API), local files
under the data directory by default, an S3-compatible bucket through django-storages when
``PORTA_JOB_FILES_S3_BUCKET`` is set, so every web node can serve any job's download."""

from __future__ import annotations

from django.core.files.storage import Storage, storages

STORAGE_ALIAS = "jobs"


def job_storage() -> Storage:
    return storages[STORAGE_ALIAS]
