from __future__ import annotations

import django_filters
from django.db.models import Q

from applications.models import Client, ClientStatus


class ClientFilterSet(django_filters.FilterSet):
    organizationId = django_filters.UUIDFilter(field_name="organization_id")
    applicationId = django_filters.UUIDFilter(field_name="application_id")
    status = django_filters.ChoiceFilter(choices=ClientStatus.choices)
    search = django_filters.CharFilter(method="filter_search", max_length=255)

    class Meta:
        model = Client
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(Q(client_name__icontains=value) | Q(client_id__icontains=value))
