"""Session housekeeping. Tasks are thin adapters over services (DESIGN.md)."""

from __future__ import annotations

from celery import shared_task

from oidc import session_services


@shared_task(acks_late=True, ignore_result=True)
def purge_expired_sessions() -> int:
    """Delete sessions expired for more than a week (idempotent; schedule it daily)."""
    return session_services.sessions_purge()
