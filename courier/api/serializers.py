from __future__ import annotations

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from porta.api.serializers import ReadSerializer, TimestampField

REDACTED = "[redacted]"
UNREADABLE = "[encrypted under a key-encryption key no longer configured]"


class RedactedField(serializers.CharField):
    """Message content: shown only when the server runs in dev mode (PORTA_DEV). Bodies are stored
    encrypted; outside dev mode they are not even decrypted."""

    def get_attribute(self, instance):
        if not settings.PORTA_DEV:
            return REDACTED
        try:
            return super().get_attribute(instance)
        except (ImproperlyConfigured, InvalidTag):  # sealed under a key-encryption key since dropped
            return UNREADABLE

    def to_representation(self, value):
        return super().to_representation(value) if settings.PORTA_DEV else REDACTED


class MessageSerializer(ReadSerializer):
    id = serializers.UUIDField()
    organizationId = serializers.UUIDField(source="organization_id", allow_null=True)
    recipient = serializers.CharField()
    template = serializers.CharField()
    subject = RedactedField(help_text="Redacted unless the server runs in dev mode")
    bodyText = RedactedField(source="body_text", help_text="Redacted unless the server runs in dev mode")
    bodyHtml = RedactedField(source="body_html", help_text="Redacted unless the server runs in dev mode")
    status = serializers.CharField()
    sendCount = serializers.IntegerField(source="send_count")
    lastError = serializers.CharField(source="last_error")
    nextAttemptAt = TimestampField(source="next_attempt_at", allow_null=True)
    sentAt = TimestampField(source="sent_at", allow_null=True)
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")
