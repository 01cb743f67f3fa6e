from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError

from audit.models import AuditEntry


def validate_event_type(value: str) -> None:
    if "*" in value[:-2] or (value.endswith("*") and not value.endswith(".*")):
        raise ValidationError("Use an exact event type or a prefix like 'org.*'")


def filter_event_type(queryset, name, value):
    """``org.suspended`` matches exactly; ``org.*`` matches every event type under ``org.``."""
    if not value:
        return queryset
    if value.endswith(".*"):
        return queryset.filter(event_type__startswith=value[:-1])
    return queryset.filter(event_type=value)


class AuditEntryFilterSet(django_filters.FilterSet):
    eventType = django_filters.CharFilter(
        method=filter_event_type, max_length=100, validators=[validate_event_type]
    )
    organizationId = django_filters.UUIDFilter(field_name="organization_id")
    actorId = django_filters.UUIDFilter(field_name="actor_id")
    targetType = django_filters.CharFilter(field_name="target_type", max_length=50)
    targetId = django_filters.CharFilter(field_name="target_id", max_length=255)
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields: list[str] = []


class HistoryFilterSet(django_filters.FilterSet):
    eventType = django_filters.CharFilter(
        method=filter_event_type, max_length=100, validators=[validate_event_type]
    )

    class Meta:
        model = AuditEntry
        fields: list[str] = []
