"""Celery adapters for issued API keys."""

from __future__ import annotations

from celery import shared_task

from issuedkeys import usage


@shared_task(name="issuedkeys.tasks.flush_issued_key_last_used", ignore_result=True)
def flush_issued_key_last_used() -> int:
    """Every 30 s (CELERY_BEAT_SCHEDULE): batched ``lastUsedAt`` values to the database."""
    return usage.flush()
