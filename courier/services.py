"""Writes to courier messages: enqueueing and each delivery attempt, audited in the same transaction.

Delivery is at-least-once. Each attempt is committed before the courier talks to SMTP; if the
worker dies during the send, the broker redelivers the task after PORTA_BROKER_VISIBILITY_TIMEOUT
and the message is sent again — possibly a second time, when the relay had already accepted it.
Every attempt carries the same ``Message-ID`` header, so a receiver can drop the duplicate.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import uuid
from collections.abc import Iterator
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from audit.writes import Audited
from courier.models import Attempt, AttemptOutcome, Message, MessageStatus
from courier.templates import render_message
from porta.core.context import Actor

COURIER_ACTOR = Actor.system("courier")
logger = logging.getLogger("porta.courier")


#: A message is named by its template; never its recipient's content.
AUDITED = Audited(
    target_type="courier_message",
    fields={},
    organization=lambda message: message.organization_id,
    metadata=lambda message: {"template": message.template},
)


def message_enqueue(
    *, actor: Actor, organization_id: uuid.UUID | None, recipient: str, template: str, context: dict
) -> Message:
    """Render ``template``, store the message queued (bodies encrypted) and send it (by a Celery
    task) once the surrounding transaction commits."""
    subject, text, html = render_message(template, context)
    with transaction.atomic():
        message = Message(
            organization_id=organization_id, recipient=recipient, template=template, subject=subject[:255]
        )
        message.seal_body(text, html)
        message.save()
        AUDITED.record("courier.message.queued", actor=actor, row=message)
        message_id = str(message.id)
        transaction.on_commit(lambda: _dispatch(message_id))
    return message


def _dispatch(message_id: str) -> None:
    """Hand the committed message to a worker. With the broker (Redis) down the write has
    already succeeded, so the caller gets its answer and the message stays ``queued``."""
    from courier.tasks import send_message

    try:
        send_message.delay(message_id)
    except BrokerUnavailable as exc:
        logger.error("Cannot queue courier message %s, the broker is unavailable: %s", message_id, exc)


def messages_requeue_stranded(*, limit: int = 1000) -> int:
    """Hand again to a worker the messages whose task the broker lost (Redis flushed or down when
    the message was queued): still ``queued`` or ``processing``, untouched for longer than the
    broker's visibility timeout, by which time any task it still held would have run. A second
    task for a message that is in fact being delivered is harmless: the delivery lock and the
    status check let only one send. Returns how many were handed on."""
    stale = timezone.now() - datetime.timedelta(seconds=settings.PORTA_BROKER_VISIBILITY_TIMEOUT)
    ids = list(
        Message.objects.filter(
            status__in=(MessageStatus.QUEUED, MessageStatus.PROCESSING), updated_at__lt=stale
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=stale))
        .order_by("updated_at")
        .values_list("id", flat=True)[:limit]
    )
    for message_id in ids:
        _dispatch(str(message_id))
    if ids:
        logger.warning("Re-queued %d courier message(s) whose task the broker no longer held", len(ids))
    return len(ids)


def backoff(attempt: int) -> int:
    """Seconds before attempt ``attempt + 1``: exponential from PORTA_COURIER_BACKOFF, capped at 1 h
    and at half the broker's visibility timeout (a longer countdown would be redelivered, and the
    retry run twice, while it waits)."""
    cap = min(3600, max(1, settings.PORTA_BROKER_VISIBILITY_TIMEOUT // 2))
    return min(settings.PORTA_COURIER_BACKOFF * 2 ** (attempt - 1), cap)


def message_id_header(message: Message) -> str:
    """The ``Message-ID`` of every attempt to deliver ``message``: stable, so a receiver can drop a
    duplicate delivered after a crash."""
    domain = parseaddr(settings.PORTA_EMAIL_FROM)[1].rpartition("@")[2] or "porta.local"
    return f"<{message.id}@{domain}>"


def _claim(message_id: str) -> tuple[Message, Attempt] | None:
    """Record the next attempt and commit it, or return None when there is nothing to send."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status in (MessageStatus.SENT, MessageStatus.ABANDONED):
            return None
        interrupted = message.attempts.filter(finished_at__isnull=True, outcome="").first()
        if interrupted is not None:
            interrupted.outcome = AttemptOutcome.INTERRUPTED
            interrupted.save(update_fields=["outcome"])
            message.last_error = f"attempt {interrupted.number} was interrupted (the worker stopped)"
            AUDITED.record(
                "courier.message.interrupted",
                actor=COURIER_ACTOR,
                row=message,
                metadata={"attempt": interrupted.number},
            )
        if message.send_count >= settings.PORTA_COURIER_MAX_ATTEMPTS:
            _abandon(message)
            return None
        now = timezone.now()
        message.status = MessageStatus.PROCESSING
        message.send_count += 1
        message.next_attempt_at = None
        message.save(update_fields=["status", "send_count", "last_error", "next_attempt_at"])
        attempt = Attempt.objects.create(message=message, number=message.send_count, started_at=now)
    return message, attempt


def _abandon(message: Message) -> None:
    message.status = MessageStatus.ABANDONED
    message.next_attempt_at = None
    message.save(update_fields=["status", "last_error", "next_attempt_at"])
    AUDITED.record(
        "courier.message.abandoned",
        actor=COURIER_ACTOR,
        row=message,
        metadata={"attempts": message.send_count, "error": message.last_error},
    )


def message_attempt(message_id: str) -> int | None:
    """One delivery attempt. Returns the seconds to wait before retrying, or None when nothing is
    left to do (sent, abandoned, or no such message).

    The attempt is committed first (its own transaction), then the e-mail goes out with no
    transaction open, then the outcome is committed. A redelivered task therefore finds the earlier
    attempt on record, and a message already sent or abandoned is never sent again. Two copies of
    the task never send at once: the delivery lock lets one through and sends the other back later.
    """
    with _delivery_lock(message_id) as held:
        if not held:
            # Another process is delivering this message right now (a copy of the task the broker
            # handed out again while the first still ran). Look again later: by then it is sent,
            # or that process died and released the lock.
            return backoff(1)
        return _deliver(message_id)


@contextlib.contextmanager
def _delivery_lock(message_id: str) -> Iterator[bool]:
    """A session-level PostgreSQL advisory lock held while one process delivers the message.

    PostgreSQL releases it when the holder's connection closes, so a worker killed mid-send does
    not keep it. Without PostgreSQL (the SQLite embedded default runs tasks eagerly, one at a
    time) there is nothing to exclude.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = uuid.UUID(message_id).int & (2**63 - 1)  # the random low bits of the uuid7, as a bigint
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _deliver(message_id: str) -> int | None:
    claimed = _claim(message_id)
    if claimed is None:
        return None
    message, attempt = claimed
    error = ""
    try:
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body_text,
            from_email=settings.PORTA_EMAIL_FROM,
            to=[message.recipient],
            headers={"Message-ID": message_id_header(message)},
        )
        if message.body_html:
            email.attach_alternative(message.body_html, "text/html")
        email.send()
    except Exception as exc:  # noqa: BLE001 - any failure (SMTP, network, undecryptable body) is a failed attempt
        error = f"{type(exc).__name__}: {exc}"[:2000]
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        attempt.finished_at = timezone.now()
        attempt.outcome = AttemptOutcome.FAILED if error else AttemptOutcome.SENT
        attempt.error = error
        attempt.save(update_fields=["finished_at", "outcome", "error"])
        if not error:
            message.status = MessageStatus.SENT
            message.sent_at = attempt.finished_at
            message.next_attempt_at = None
            message.save(update_fields=["status", "sent_at", "next_attempt_at"])
            AUDITED.record(
                "courier.message.sent",
                actor=COURIER_ACTOR,
                row=message,
                metadata={"attempts": message.send_count},
            )
            return None
        message.last_error = error
        if message.send_count >= settings.PORTA_COURIER_MAX_ATTEMPTS:
            _abandon(message)
            return None
        delay = backoff(message.send_count)
        message.status = MessageStatus.QUEUED
        message.next_attempt_at = timezone.now() + datetime.timedelta(seconds=delay)
        message.save(update_fields=["status", "last_error", "next_attempt_at"])
        AUDITED.record(
            "courier.message.failed",
            actor=COURIER_ACTOR,
            row=message,
            metadata={"attempt": message.send_count, "error": error},
        )
        return delay
