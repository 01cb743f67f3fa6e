"""Config rows (one per defined key exists after migrate; the factory sets one's value)."""

from __future__ import annotations

import factory

from systemconfig.models import ConfigEntry


class ConfigEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConfigEntry
        django_get_or_create = ("key",)

    key = "audit_retention_days"
    value = None
