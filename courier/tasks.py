"""Courier delivery. Tasks take ids, are idempotent and acknowledged late (DESIGN.md)."""

from __future__ import annotations

from celery import shared_task

from courier import services


@shared_task(acks_late=True, ignore_result=True)
def send_message(message_id: str) -> None:
    """Send one courier message; on failure schedule the next attempt after a backoff.

    Retries are new deliveries of this task with a countdown (below the broker's visibility
    timeout, see services.backoff). In eager mode (no broker) Celery runs them at once, so retries
    never sleep in-process. A delivery cut short by a dead worker is redelivered by the broker
    after PORTA_BROKER_VISIBILITY_TIMEOUT; the attempt it interrupted is already on record.
    """
    delay = services.message_attempt(message_id)
    if delay is not None:
        send_message.apply_async((message_id,), countdown=delay)


@shared_task(ignore_result=True)
def requeue_stranded_messages() -> None:
    """Beat: deliver messages whose task the broker lost (see services.messages_requeue_stranded)."""
    services.messages_requeue_stranded()
