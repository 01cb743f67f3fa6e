from __future__ import annotations

import django_filters
from django.db.models import Q

from rbac.models import Permission, Role


class PermissionFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", max_length=255)

    class Meta:
        model = Permission
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value)) if value else queryset


class RoleFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", max_length=255)

    class Meta:
        model = Role
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value)) if value else queryset
