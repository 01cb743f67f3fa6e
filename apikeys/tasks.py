"""Celery adapters for admin API keys."""

from __future__ import annotations

from celery import shared_task

from apikeys import services


@shared_task(name="apikeys.tasks.flush_api_key_last_used", ignore_result=True)
def flush_api_key_last_used() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): batched ``lastUsedAt`` values to the database."""
    return services.api_keys_flush_last_used()
