from __future__ import annotations

import django_filters
from django.db.models import Q

from organizations.models import User, UserStatus


class UserFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=UserStatus.choices)
    search = django_filters.CharFilter(method="filter_search", max_length=255)
    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact", max_length=255)
    externalId = django_filters.CharFilter(field_name="external_id", max_length=255)

    class Meta:
        model = User
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        """Prefix match on email and names: UPPER(col) LIKE 'X%' uses the (organization,
        UPPER(col) text_pattern_ops) indexes, so search stays fast at a million users."""
        if not value:
            return queryset
        return queryset.filter(
            Q(email__istartswith=value) | Q(given_name__istartswith=value) | Q(family_name__istartswith=value)
        )
