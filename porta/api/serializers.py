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
            wrong_types = {
                name: [message]
                for name, value in data.items()
                if value is not None and (message := _json_type_problem(self.fields[name], value))
            }
            if wrong_types:
                raise serializers.ValidationError(wrong_types)
        return super().to_internal_value(data)


def _json_type_problem(field: serializers.Field, value) -> str | None:
    """DRF coerces 0 to "0" and "true" to True; a JSON API should take each type as itself."""
    if isinstance(field, serializers.CharField) and not isinstance(value, str):
        return "Must be a string."
    if isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
        return "Must be true or false."
    if isinstance(field, serializers.IntegerField) and (
        isinstance(value, bool) or not isinstance(value, int)
    ):
        return "Must be an integer."
    return None


class ReadSerializer(serializers.Serializer):
    """An output-only serializer with a fast path for plain rows.

    DRF deep-copies every declared field each time a serializer is instantiated, which costs more
    than rendering a single object. ``represent`` binds the fields once per class and reuses them;
    the output is exactly what ``Serializer(instance).data`` gives (checked by the tests).
    """

    @classmethod
    def _bound_fields(cls) -> list[serializers.Field]:
        bound = cls.__dict__.get("_porta_bound_fields")
        if bound is None:
            bound = list(cls()._readable_fields)
            cls._porta_bound_fields = bound
        return bound

    @classmethod
    def represent(cls, instance) -> dict:
        data = {}
        for field in cls._bound_fields():
            attribute = field.get_attribute(instance)
            data[field.field_name] = None if attribute is None else field.to_representation(attribute)
        return data

    @classmethod
    def represent_many(cls, instances) -> list[dict]:
        return [cls.represent(instance) for instance in instances]
