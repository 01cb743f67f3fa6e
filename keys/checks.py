"""Configuration checks run at start-up (``manage.py check``, every management command)."""

from __future__ import annotations

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def rotation_period_check(app_configs, **kwargs) -> list[Error]:
    from keys.services import rotation_period

    try:
        rotation_period()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint="Use a duration such as 90d or 2160h", id="keys.E001")]
    return []
