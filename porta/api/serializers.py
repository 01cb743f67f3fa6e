"""Serializer building blocks shared by every app: strict bodies and the wire's time format."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from rest_framework import serializers


def iso_ms(value: datetime.datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds: ``2024-01-15T10:30:00.000Z``."""
    if value is None:
        return None
    value = value.astimezone(datetime.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class TimestampField(serializers.DateTimeField):
    def to_representation(self, value):
        return iso_ms(value)


class StrictSerializer(serializers.Serializer):
    """Rejects body fields it does not know (contract: unknown fields → 400 naming them).

    Read-only fields a client may send back from a GET (``id``, ``createdAt``…) are listed in
    ``ignored_fields`` and dropped, so a GET-modify-PUT round trip just works.
    """

    ignored_fields: frozenset[str] = frozenset({"id", "createdAt", "updatedAt"})

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            data = {k: v for k, v in data.items() if k not in self.ignored_fields or k in self.fields}
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)
