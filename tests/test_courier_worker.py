"""The courier with real Celery worker processes and Redis as the broker, not eager mode."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message as EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from courier.models import AttemptOutcome, Message
from courier.services import message_enqueue
from porta.core.context import Actor
from testing.servers import free_port

#: Seconds after which the broker hands a task of a dead worker to another (short for the test).
VISIBILITY_TIMEOUT = 5


class SlowSink:
    """An SMTP server's DATA handler that records every message and holds its reply to the first
    one until ``release`` is set, as a slow relay does."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.first_data = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.received.append(message_from_bytes(envelope.original_content or envelope.content))
        if len(self.received) == 1:
            self.first_data.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"


@pytest.fixture
def slow_smtp() -> Iterator[tuple[SlowSink, int]]:
    """A real SMTP server (aiosmtpd) on a loopback port, in a thread of the test process."""
    sink = SlowSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        sink.release.set()
        controller.stop()


def _wait_for_status(message: Message, status: str, seconds: float = 60.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.status == status:
            break
        time.sleep(0.2)
    return message.status


def _enqueue(recipient: str = "someone@example.com") -> Message:
    return message_enqueue(
        actor=Actor.system(),
        organization_id=None,
        recipient=recipient,
        template="verification",
        context={"verification_link": "https://example.com/verify", "organization_name": "Acme"},
    )


@pytest.mark.servers
def test_a_real_worker_delivers_a_queued_message(start_worker, tmp_path: Path):
    start_worker()
    message = _enqueue()
    assert _wait_for_status(message, "sent") == "sent"
    delivered = "".join(path.read_text() for path in (tmp_path / "mail").glob("*.log"))
    assert "someone@example.com" in delivered


@pytest.mark.servers
def test_a_send_cut_short_by_a_killed_worker_is_delivered_again_after_a_restart(start_worker, slow_smtp):
    sink, port = slow_smtp
    smtp = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_TIMEOUT": "300",  # the worker waits for the slow sink until it is killed
        "PORTA_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    }
    worker = start_worker(**smtp)
    message = _enqueue()
    assert sink.first_data.wait(timeout=60), "the worker never reached DATA"
    worker.kill()  # SIGKILL while the worker waits for the reply to DATA
    worker.wait(timeout=30)
    start_worker(**smtp)

    # Redelivered after the (short) visibility timeout; the margin covers process start-up.
    assert _wait_for_status(message, "sent", seconds=VISIBILITY_TIMEOUT + 60) == "sent"
    attempts = list(message.attempts.order_by("number").values_list("number", "outcome"))
    assert attempts == [(1, AttemptOutcome.INTERRUPTED), (2, AttemptOutcome.SENT)]
    assert [m["To"] for m in sink.received] == ["someone@example.com"] * 2
    assert sink.received[0]["Message-ID"] == sink.received[1]["Message-ID"] == f"<{message.id}@porta.local>"
