from __future__ import annotations

from typing import Any

from rest_framework import serializers

from bulk.targets import ORGANIZATIONS, USERS, BulkTarget
from organizations.models import OrganizationStatus, UserStatus
from porta.api.serializers import StrictSerializer

IDS_MAX = 100


class OrganizationFilterSerializer(StrictSerializer):
    """The filters of ``GET /organizations``."""

    status = serializers.ChoiceField(choices=OrganizationStatus.values, required=False)
    search = serializers.CharField(min_length=1, max_length=255, required=False)


class UserFilterSerializer(StrictSerializer):
    """The filters of ``GET /organizations/{orgId}/users``."""

    status = serializers.ChoiceField(choices=UserStatus.values, required=False)
    search = serializers.CharField(min_length=1, max_length=255, required=False)
    email = serializers.CharField(min_length=1, max_length=255, required=False)
    externalId = serializers.CharField(min_length=1, max_length=255, required=False)


class _BulkStatusSerializer(StrictSerializer):
    target: BulkTarget

    ids = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=IDS_MAX, required=False
    )
    action = serializers.ChoiceField(choices=[])
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = self.target.actions

    def validate_ids(self, value: list) -> list:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("Bulk entity identifiers must be unique.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_ids, has_filter = "ids" in attrs, "filter" in attrs
        if has_ids == has_filter:
            message = "Send either ids or filter." if has_ids else "Send ids or a filter."
            raise serializers.ValidationError({"ids": [message], "filter": [message]})
        if has_filter and not attrs["filter"]:
            raise serializers.ValidationError(
                {"filter": ["An empty filter would act on every row: name at least one filter."]}
            )
        if attrs["action"] in self.target.reason_required and not (attrs.get("reason") or "").strip():
            raise serializers.ValidationError({"reason": [f"A reason is required to {attrs['action']}."]})
        return attrs


class BulkOrganizationStatusSerializer(_BulkStatusSerializer):
    """``ids`` (1-100, unique) or ``filter`` (the list's filters; not empty), and an action of
    the organizations' transition table."""

    target = ORGANIZATIONS
    filter = OrganizationFilterSerializer(required=False)


class BulkUserStatusSerializer(_BulkStatusSerializer):
    """``ids`` (1-100, unique) or ``filter`` (the list's filters; not empty) within
    ``organizationId``, and an action of the users' transition table (or ``activate``: from
    inactive or suspended)."""

    target = USERS
    organizationId = serializers.UUIDField()
    filter = UserFilterSerializer(required=False)


class BulkItemSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    success = serializers.BooleanField()
    previousStatus = serializers.CharField(allow_null=True)
    newStatus = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_null=True)


class BulkResultSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = BulkItemSerializer(many=True)
