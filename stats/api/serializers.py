"""The shapes of /stats answers, for the OpenAPI schema (the reports are built as dicts)."""

from __future__ import annotations

from rest_framework import serializers

from applications.models import ApplicationStatus, ClientStatus
from organizations.models import OrganizationStatus, UserStatus


def _status_counts(name: str, choices, **extra: serializers.Field) -> type[serializers.Serializer]:
    fields = {"total": serializers.IntegerField()}
    fields.update({status: serializers.IntegerField() for status in choices.values})
    fields.update(extra)
    return type(name, (serializers.Serializer,), fields)


OrganizationCountsSerializer = _status_counts("OrganizationCountsSerializer", OrganizationStatus)
ApplicationCountsSerializer = _status_counts("ApplicationCountsSerializer", ApplicationStatus)
ClientCountsSerializer = _status_counts("ClientCountsSerializer", ClientStatus)
UserCountsSerializer = _status_counts(
    "UserCountsSerializer",
    UserStatus,
    newLast7d=serializers.IntegerField(help_text="Users created in the last 7 days (whole hours)"),
    newLast30d=serializers.IntegerField(help_text="Users created in the last 30 days (whole hours)"),
    activeLast30d=serializers.IntegerField(help_text="Users whose last login is within 30 days"),
)


class LoginCountsSerializer(serializers.Serializer):
    successful = serializers.IntegerField()
    failed = serializers.IntegerField()


class LoginActivitySerializer(serializers.Serializer):
    last24h = LoginCountsSerializer()
    last7d = LoginCountsSerializer()
    last30d = LoginCountsSerializer()


class SystemHealthSerializer(serializers.Serializer):
    database = serializers.ChoiceField(choices=["ok", "error"])
    redis = serializers.ChoiceField(choices=["ok", "error", "not configured"])


class StatsOverviewSerializer(serializers.Serializer):
    organizations = OrganizationCountsSerializer()
    users = UserCountsSerializer()
    applications = ApplicationCountsSerializer()
    clients = ClientCountsSerializer()
    loginActivity = LoginActivitySerializer()
    systemHealth = SystemHealthSerializer()
    generatedAt = serializers.DateTimeField()


class OrganizationStatsSerializer(serializers.Serializer):
    organizationId = serializers.UUIDField()
    users = UserCountsSerializer()
    clients = ClientCountsSerializer()
    loginActivity = LoginActivitySerializer()
    generatedAt = serializers.DateTimeField()
