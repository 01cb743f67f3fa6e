from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils import timezone

from apikeys.models import AdminApiKey

STATUSES = (("active", "active"), ("revoked", "revoked"), ("expired", "expired"))


class ApiKeyFilterSet(django_filters.FilterSet):
    organizationId = django_filters.UUIDFilter(field_name="organization_id")
    status = django_filters.ChoiceFilter(choices=STATUSES, method="filter_status")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=255)

    class Meta:
        model = AdminApiKey
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        now = timezone.now()
        if value == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        live = queryset.filter(revoked_at__isnull=True)
        if value == "expired":
            return live.filter(expires_at__lte=now)
        return live.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
