"""Writes to courier messages: enqueueing and each delivery attempt, audited in the same transaction."""

from __future__ import annotations

import datetime
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from audit import services as audit
from audit.context import Actor
from courier.models import Message, MessageStatus
from courier.templates import render_message

COURIER_ACTOR = Actor.system("courier")
logger = logging.getLogger("porta.courier")


def _audit(event_type: str, actor: Actor, message: Message, **metadata: Any) -> None:
    audit.record(
        event_type=event_type,
        actor=actor,
        organization_id=message.organization_id,
        target_type="courier_message",
        target_id=message.id,
        metadata={"template": message.template, **metadata},
    )


def message_enqueue(
    *, actor: Actor, organization_id: uuid.UUID | None, recipient: str, template: str, context: dict
) -> Message:
    """Render ``template``, store the message queued and send it (by a Celery task) once the
    surrounding transaction commits."""
    subject, text, html = render_message(template, context)
    with transaction.atomic():
        message = Message.objects.create(
            organization_id=organization_id,
            recipient=recipient,
            template=template,
            subject=subject[:255],
            body_text=text,
            body_html=html,
        )
        _audit("courier.message.queued", actor, message)
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


def backoff(attempt: int) -> int:
    """Seconds before attempt ``attempt + 1``: exponential from PORTA_COURIER_BACKOFF, capped at 1 h."""
    return min(settings.PORTA_COURIER_BACKOFF * 2 ** (attempt - 1), 3600)


def message_attempt(message_id: str) -> int | None:
    """One delivery attempt. Returns the seconds to wait before retrying, or None when nothing is
    left to do (sent, abandoned, or no such message).

    The row stays locked (select_for_update) while the e-mail goes out, so two deliveries of the
    same task cannot both send it, and a message already sent or abandoned is never sent again.
    """
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status in (MessageStatus.SENT, MessageStatus.ABANDONED):
            return None
        message.status = MessageStatus.PROCESSING
        message.send_count += 1
        message.save(update_fields=["status", "send_count"])
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body_text,
            from_email=settings.PORTA_EMAIL_FROM,
            to=[message.recipient],
        )
        if message.body_html:
            email.attach_alternative(message.body_html, "text/html")
        try:
            email.send()
        except Exception as exc:  # noqa: BLE001 - any backend failure (SMTP, network) is a failed attempt
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.send_count >= settings.PORTA_COURIER_MAX_ATTEMPTS:
                message.status = MessageStatus.ABANDONED
                message.next_attempt_at = None
                message.save(update_fields=["status", "last_error", "next_attempt_at"])
                _audit(
                    "courier.message.abandoned",
                    COURIER_ACTOR,
                    message,
                    attempts=message.send_count,
                    error=message.last_error,
                )
                return None
            delay = backoff(message.send_count)
            message.status = MessageStatus.QUEUED
            message.next_attempt_at = timezone.now() + datetime.timedelta(seconds=delay)
            message.save(update_fields=["status", "last_error", "next_attempt_at"])
            _audit(
                "courier.message.failed",
                COURIER_ACTOR,
                message,
                attempt=message.send_count,
                error=message.last_error,
            )
            return delay
        message.status = MessageStatus.SENT
        message.sent_at = timezone.now()
        message.next_attempt_at = None
        message.save(update_fields=["status", "sent_at", "next_attempt_at"])
        _audit("courier.message.sent", COURIER_ACTOR, message, attempts=message.send_count)
        return None
