from __future__ import annotations

import django_filters

from courier.models import Message, MessageStatus


class MessageFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MessageStatus.choices)
    recipient = django_filters.CharFilter(field_name="recipient", lookup_expr="iexact", max_length=255)

    class Meta:
        model = Message
        fields: list[str] = []
