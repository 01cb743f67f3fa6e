from __future__ import annotations

from rest_framework import serializers

from issuedkeys import usage
from issuedkeys.services import METADATA_MAX_BYTES, SCOPE_MAX_LENGTH, key_state
from porta.api.serializers import ReadSerializer, StrictSerializer, TimestampField
from porta.core.durations import DurationField


class IssuedApiKeySerializer(ReadSerializer):
    """A key's metadata: never the secret nor its hash."""

    keyId = serializers.UUIDField(source="id")
    organizationId = serializers.UUIDField(source="organization_id")
    name = serializers.CharField()
    actorId = serializers.CharField(source="actor_id", allow_null=True)
    scopes = serializers.ListField(child=serializers.CharField())
    metadata = serializers.DictField()
    status = serializers.SerializerMethodField()
    prefix = serializers.CharField()
    lastFour = serializers.CharField(source="last_four")
    createdAt = TimestampField(source="created_at")
    updatedAt = TimestampField(source="updated_at")
    expiresAt = TimestampField(source="expires_at", allow_null=True)
    lastUsedAt = TimestampField(source="last_used_at", allow_null=True)
    revokedAt = TimestampField(source="revoked_at", allow_null=True)
    revocationReason = serializers.CharField(source="revocation_reason", allow_null=True)
    rotatedFrom = serializers.UUIDField(source="rotated_from_id", allow_null=True)

    def get_status(self, obj) -> str:
        return key_state(obj)

    @classmethod
    def represent_many(cls, instances) -> list[dict]:
        """``lastUsedAt`` includes uses noted by verification and not yet flushed to the
        database (issuedkeys.usage): the later of both."""
        rows = list(instances)
        noted = usage.pending(row.id for row in rows)
        for row in rows:
            used_at = noted.get(row.id)
            if used_at is not None and (row.last_used_at is None or row.last_used_at < used_at):
                row.last_used_at = used_at
        return [super(IssuedApiKeySerializer, cls).represent(row) for row in rows]

    @classmethod
    def represent(cls, instance) -> dict:
        return cls.represent_many([instance])[0]


class _MetadataField(serializers.DictField):
    """A JSON object (its size is the service's rule, ≤ 4 KB as compact JSON)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", f"JSON object, at most {METADATA_MAX_BYTES} bytes as compact JSON")
        super().__init__(**kwargs)


class _StringField(serializers.CharField):
    """A JSON string as itself: DRF would turn ``5`` into ``"5"``."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a string.")
        return super().to_internal_value(data)


def _scopes_field() -> serializers.ListField:
    return serializers.ListField(
        child=_StringField(max_length=SCOPE_MAX_LENGTH), max_length=1000, required=False
    )


class IssuedApiKeyCreateSerializer(StrictSerializer):
    name = serializers.CharField(min_length=1, max_length=255)
    actorId = serializers.CharField(
        source="actor_id", min_length=1, max_length=255, required=False, allow_null=True
    )
    scopes = _scopes_field()
    ttl = DurationField(required=False, allow_null=True, help_text='Duration string: "90s", "1h30m", "7d"')
    metadata = _MetadataField(required=False, allow_null=True)


class IssuedApiKeyUpdateSerializer(StrictSerializer):
    """Only ``name``, ``scopes`` and ``metadata`` may change; any other field is a 400."""

    ignored_fields = frozenset({"keyId", "createdAt", "updatedAt"})

    name = serializers.CharField(min_length=1, max_length=255, required=False)
    scopes = _scopes_field()
    metadata = _MetadataField(required=False)


class IssuedApiKeyRotateSerializer(StrictSerializer):
    scopes = _scopes_field()
    ttl = DurationField(required=False, allow_null=True)
    metadata = _MetadataField(required=False)


class RevokeSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_null=True, allow_blank=True)


class IssuedApiKeyCreatedSerializer(serializers.Serializer):
    issuedApiKey = IssuedApiKeySerializer()
    secret = serializers.CharField()
    warning = serializers.CharField()


class QuotaExceededSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="PaymentRequired")
    reason = serializers.CharField(help_text="API_KEY_QUOTA_EXCEEDED")
    message = serializers.CharField()
    statusCode = serializers.IntegerField()
    requestId = serializers.CharField()
    limit = serializers.IntegerField()
    currentUsage = serializers.IntegerField()


class ApiKeySettingsSerializer(ReadSerializer):
    organizationId = serializers.UUIDField(source="organization_id")
    prefix = serializers.CharField()
    defaultTtl = serializers.CharField(source="default_ttl_wire")
    maxTtl = serializers.CharField(source="max_ttl_wire")
    quota = serializers.IntegerField(allow_null=True)


class ApiKeySettingsUpdateSerializer(StrictSerializer):
    """A PUT replaces every setting: all four fields are required (``quota`` may be null)."""

    ignored_fields = frozenset({"organizationId"})

    prefix = serializers.CharField(max_length=16)
    defaultTtl = DurationField(source="default_ttl")
    maxTtl = DurationField(source="max_ttl")
    quota = serializers.IntegerField(min_value=0, max_value=1_000_000_000, allow_null=True)
