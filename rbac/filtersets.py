from __future__ import annotations

import django_filters
from django.db.models import Q

from rbac.models import Permission, Role


class _NameOrSlugSearch(django_filters.FilterSet):
    """``search`` over a row's name and slug (roles and permissions alike)."""

    search = django_filters.CharFilter(method="filter_search", max_length=255)

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value)) if value else queryset


class PermissionFilterSet(_NameOrSlugSearch):
    class Meta:
        model = Permission
        fields: list[str] = []


class RoleFilterSet(_NameOrSlugSearch):
    class Meta:
        model = Role
        fields: list[str] = []
