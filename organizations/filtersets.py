from __future__ import annotations

import django_filters
from django.db.models import Q

from organizations.models import Organization, OrganizationStatus


class OrganizationFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=OrganizationStatus.choices)
    search = django_filters.CharFilter(method="filter_search", max_length=255)

    class Meta:
        model = Organization
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value)) if value else queryset
