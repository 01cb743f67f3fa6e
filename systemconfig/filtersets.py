from __future__ import annotations

import django_filters

from systemconfig.models import ConfigEntry


class ConfigEntryFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(field_name="key", lookup_expr="icontains", max_length=100)
    overridden = django_filters.ChoiceFilter(
        choices=(("true", "true"), ("false", "false")),
        method="filter_overridden",
        help_text="true: only keys set through the API; false: only keys at their default",
    )

    class Meta:
        model = ConfigEntry
        fields: list[str] = []

    def filter_overridden(self, queryset, name, value):
        return queryset.filter(value__isnull=value == "false")
