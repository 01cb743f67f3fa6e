"""Celery adapters for the stats tallies."""

from __future__ import annotations

from celery import shared_task

from stats import services


@shared_task(name="stats.tasks.compact_tallies", ignore_result=True)
def compact_tallies() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): fold the triggers' deltas into the tallies."""
    return services.tallies_compact()
