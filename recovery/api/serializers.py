from __future__ import annotations

from rest_framework import serializers

from porta.api.serializers import StrictSerializer, TimestampField
from porta.core.durations import DurationField


class RecoveryCreateSerializer(StrictSerializer):
    userId = serializers.CharField(max_length=100)
    expiresIn = DurationField(required=False, help_text='How long it works, e.g. "30m", "1h" (default), "7d"')


class RecoveryLinkSerializer(serializers.Serializer):
    recoveryLink = serializers.URLField()
    expiresAt = TimestampField()


class RecoveryCodeSerializer(serializers.Serializer):
    recoveryCode = serializers.CharField(help_text="8 digits, entered on the recovery page")
    recoveryLink = serializers.URLField()
    expiresAt = TimestampField()
