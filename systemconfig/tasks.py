"""Celery adapters of the live settings' periodic work."""

from __future__ import annotations

from celery import shared_task

from porta.core.context import Actor
from systemconfig import services


@shared_task(acks_late=True, ignore_result=True)
def audit_retention_cleanup() -> int:
    """Daily (beat): delete audit entries older than the live ``audit_retention_days``.
    Idempotent: a second run the same day finds nothing more to delete."""
    result = services.audit_retention_run(actor=Actor.system("audit_retention"))
    return result.deleted
