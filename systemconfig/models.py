from __future__ import annotations

from typing import Any

from django.db import models

from porta.core import liveconfig

MASK = "***"


class ConfigEntry(models.Model):
    """One live setting (porta.core.liveconfig defines the keys, their types and defaults).

    ``value`` null means "not set here": the key has its default, the environment's value where
    one exists. Rows are written only through ``systemconfig.services``."""

    key = models.CharField(primary_key=True, max_length=100)
    value = models.JSONField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["key"]
        verbose_name = "config entry"
        verbose_name_plural = "config entries"

    def __str__(self) -> str:
        return self.key

    @property
    def definition(self) -> liveconfig.Definition:
        return liveconfig.DEFINITIONS[self.key]

    @property
    def overridden(self) -> bool:
        return self.value is not None

    @property
    def effective_value(self) -> Any:
        return self.definition.default() if self.value is None else self.value

    def _shown(self, value: Any) -> Any:
        return MASK if self.definition.sensitive and value is not None else value

    @property
    def shown_value(self) -> Any:
        """The live value as the API and the admin show it: a sensitive one masked."""
        return self._shown(self.effective_value)

    @property
    def shown_default(self) -> Any:
        return self._shown(self.definition.default())

    @property
    def audited_value(self) -> Any:
        """What the audit trail records: the override (null when unset), masked if sensitive."""
        return self._shown(self.value)
