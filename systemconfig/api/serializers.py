from __future__ import annotations

from rest_framework import serializers

from porta.api.serializers import ReadSerializer, StrictSerializer, TimestampField


class ConfigEntrySerializer(ReadSerializer):
    key = serializers.CharField()
    value = serializers.JSONField(source="shown_value", help_text="The live value; *** when sensitive")
    valueType = serializers.CharField(source="definition.value_type", help_text="integer or boolean")
    unit = serializers.CharField(source="definition.unit", allow_null=True)
    minimum = serializers.IntegerField(source="definition.minimum", allow_null=True)
    maximum = serializers.IntegerField(source="definition.maximum", allow_null=True)
    description = serializers.CharField(source="definition.description")
    isSensitive = serializers.BooleanField(source="definition.sensitive")
    defaultValue = serializers.JSONField(source="shown_default", help_text="From the environment or built in")
    overridden = serializers.BooleanField(help_text="Whether the value was set through this API")
    updatedAt = TimestampField(source="updated_at", allow_null=True)


class ConfigUpdateSerializer(StrictSerializer):
    ignored_fields = frozenset(
        {"key", "valueType", "unit", "minimum", "maximum", "description", "isSensitive", "defaultValue",
         "overridden", "updatedAt"}
    )  # fmt: skip
    value = serializers.JSONField(
        allow_null=True, help_text="Integer (seconds, days, counts) or boolean; null resets to the default"
    )


class AuditCleanupSerializer(StrictSerializer):
    retentionDays = serializers.IntegerField(
        min_value=1, max_value=36_500, required=False, help_text="Default: the live audit_retention_days"
    )
    dryRun = serializers.BooleanField(required=False, default=False)


class AuditCleanupResultSerializer(ReadSerializer):
    dryRun = serializers.BooleanField(source="dry_run")
    retentionDays = serializers.IntegerField(source="retention_days")
    cutoffDate = TimestampField(source="cutoff")
    entriesFound = serializers.IntegerField(source="entries_found")
    deleted = serializers.IntegerField()
