"""Reads of the live settings."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from porta.core import liveconfig
from systemconfig.models import ConfigEntry


def config_entries() -> QuerySet[ConfigEntry]:
    """The rows of the keys this server defines (a row left by a key since removed is hidden)."""
    return ConfigEntry.objects.filter(key__in=list(liveconfig.DEFINITIONS))


def overrides() -> dict[str, Any]:
    """``{key: value}`` of every key set through the API: what porta.core.liveconfig loads."""
    return dict(ConfigEntry.objects.filter(value__isnull=False).values_list("key", "value"))
