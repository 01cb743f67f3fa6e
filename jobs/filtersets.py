from __future__ import annotations

import django_filters

from jobs.models import Job, JobStatus


class JobFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=JobStatus.choices)
    kind = django_filters.CharFilter(field_name="kind", max_length=100)
    organizationId = django_filters.UUIDFilter(field_name="organization_id")
    actorId = django_filters.UUIDFilter(field_name="actor_id")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Job
        fields: list[str] = []
