"""Scheduled signing-key rotation (Celery beat; see ``CELERY_BEAT_SCHEDULE`` in settings)."""

from __future__ import annotations

from celery import shared_task

from keys import services
from porta.core.context import Actor

ACTOR = Actor.system("scheduled key rotation")


@shared_task(acks_late=True, ignore_result=True)
def rotate_signing_keys_if_due() -> str | None:
    """Rotate when the active key has signed for ``PORTA_KEY_ROTATION_PERIOD``. Beat runs this far
    more often than the period, and it is a no-op until the key is due, so a missed or repeated
    run changes nothing; the decision is taken under the rotation lock, so concurrent runs
    rotate once. Returns the new active kid, if any (for logs)."""
    result = services.signing_key_rotate_if_due(actor=ACTOR, older_than=services.rotation_period())
    return result.active.kid if result is not None else None
