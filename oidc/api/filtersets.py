from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from oidc.models import Session
from oidc.session_selectors import active_q


class SessionFilterSet(django_filters.FilterSet):
    userId = django_filters.UUIDFilter(field_name="user_id")
    organizationId = django_filters.UUIDFilter(field_name="organization_id")
    clientId = django_filters.UUIDFilter(field_name="client_id", help_text="The client's id (a UUID)")
    activeOnly = django_filters.ChoiceFilter(
        choices=(("true", "true"), ("false", "false")),
        method="filter_active_only",
        help_text="true: only sessions neither revoked nor expired",
    )

    class Meta:
        model = Session
        fields: list[str] = []

    def filter_active_only(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(active_q()) if value == "true" else queryset
