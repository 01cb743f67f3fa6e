from __future__ import annotations

import django_filters

from keys.models import SigningKey, SigningKeyStatus


class SigningKeyFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SigningKeyStatus.choices)

    class Meta:
        model = SigningKey
        fields: list[str] = []
