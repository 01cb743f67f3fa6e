"""Courier messages: every e-mail Porta sends, from queued to sent (or abandoned after retries)."""

from __future__ import annotations

import json

from django.db import models

from keys import crypto
from porta.core.db import TimestampedModel
from porta.core.ids import uuid7


class MessageStatus(models.TextChoices):
    QUEUED = "queued"
    PROCESSING = "processing"
    SENT = "sent"
    ABANDONED = "abandoned"


class Message(TimestampedModel):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    #: No foreign key (like audit): a message outlives the organization it was sent for.
    organization_id = models.UUIDField(null=True, blank=True)
    recipient = models.CharField(max_length=255)
    template = models.CharField(max_length=50)
    subject = models.CharField(max_length=255)
    #: The text and HTML bodies, sealed together with AES-256-GCM under the key-encryption key
    #: (keys.crypto, as signing keys are): an invitation's body carries a link that works as a
    #: password for 7 days, so a database backup must not hold it readable. Read and set them
    #: through ``body_text`` / ``body_html``.
    body_ciphertext = models.BinaryField(default=bytes)
    kek_id = models.CharField(max_length=16, blank=True, default="")
    status = models.CharField(max_length=20, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    send_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at", "id"], name="courier_msg_created_idx"),
            models.Index(fields=["organization_id", "created_at", "id"], name="courier_msg_org_created_idx"),
            models.Index(fields=["status", "created_at"], name="courier_msg_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.template} to {self.recipient} ({self.status})"

    def _associated_data(self) -> bytes:
        # Binds the ciphertext to its row: a body copied onto another message does not decrypt.
        return f"courier.message:{self.id}".encode()

    def seal_body(self, text: str, html: str = "") -> None:
        plaintext = json.dumps({"text": text, "html": html}).encode()
        self.kek_id, self.body_ciphertext = crypto.encrypt(plaintext, associated_data=self._associated_data())
        self._opened = (self.body_ciphertext, (text, html))

    def _body(self) -> tuple[str, str]:
        opened = getattr(self, "_opened", None)
        if opened is None or opened[0] is not self.body_ciphertext:
            body: tuple[str, str] = ("", "")
            if self.body_ciphertext:
                plaintext = crypto.decrypt(
                    self.body_ciphertext, kek_id=self.kek_id, associated_data=self._associated_data()
                )
                data = json.loads(plaintext)
                body = (data["text"], data["html"])
            opened = self._opened = (self.body_ciphertext, body)
        return opened[1]

    @property
    def body_text(self) -> str:
        return self._body()[0]

    @body_text.setter
    def body_text(self, value: str) -> None:
        self.seal_body(value, self.body_html)

    @property
    def body_html(self) -> str:
        return self._body()[1]

    @body_html.setter
    def body_html(self, value: str) -> None:
        self.seal_body(self.body_text, value)


class AttemptOutcome(models.TextChoices):
    SENT = "sent"
    FAILED = "failed"
    #: The process died during the send (SIGKILL, power loss): whether the relay accepted the
    #: message is unknown, so it is sent again and may arrive twice (same Message-ID).
    INTERRUPTED = "interrupted"


class Attempt(models.Model):
    """One delivery attempt, committed before the courier talks to SMTP, so an attempt cut short
    by a crash stays on record (it has no outcome until the next attempt marks it interrupted)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=AttemptOutcome.choices, blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["message", "number"]
        constraints = [
            models.UniqueConstraint(fields=["message", "number"], name="courier_attempt_number_uniq")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.message_id} ({self.outcome or 'running'})"
