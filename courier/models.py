"""Courier messages: every e-mail Porta sends, from queued to sent (or abandoned after retries)."""

from __future__ import annotations

from django.db import models

from porta.db import TimestampedModel
from porta.ids import uuid7


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
    body_text = models.TextField()
    body_html = models.TextField(blank=True, default="")
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
