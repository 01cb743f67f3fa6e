from __future__ import annotations

import django_filters
from django.db.models import Q

from applications.models import Application, ApplicationStatus, Module, ModuleStatus


def _search_name_and_slug(queryset, name, value):
    return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value)) if value else queryset


class ApplicationFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ApplicationStatus.choices)
    search = django_filters.CharFilter(method="filter_search", max_length=255)

    class Meta:
        model = Application
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return _search_name_and_slug(queryset, name, value)


class ModuleFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ModuleStatus.choices)
    search = django_filters.CharFilter(method="filter_search", max_length=255)

    class Meta:
        model = Module
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return _search_name_and_slug(queryset, name, value)
