from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils import timezone

from issuedkeys.models import IssuedApiKey

STATUSES = (("active", "active"), ("expired", "expired"), ("revoked", "revoked"))


class IssuedApiKeyFilterSet(django_filters.FilterSet):
    actorId = django_filters.CharFilter(field_name="actor_id", max_length=255)
    status = django_filters.ChoiceFilter(choices=STATUSES, method="filter_status")
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=255)

    class Meta:
        model = IssuedApiKey
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        """``expired`` is derived: an active key whose expiry has passed."""
        if value == "revoked":
            return queryset.filter(status=IssuedApiKey.Status.REVOKED)
        live = queryset.filter(status=IssuedApiKey.Status.ACTIVE)
        now = timezone.now()
        if value == "expired":
            return live.filter(expires_at__lte=now)
        return live.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
