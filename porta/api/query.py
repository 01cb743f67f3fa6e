"""Query-string values outside filtersets (``?force=true``, ``?dryRun=true``, ``?organizationId=``):
parsed in one place, a bad value is a 400 naming the parameter."""

from __future__ import annotations

import uuid

from porta.core.errors import ValidationFailed
from porta.core.ids import parse_uuid


def query_bool(value: str | None, name: str) -> bool:
    """``true``/``1`` or ``false``/``0`` (absent or empty: false)."""
    if value is None or value == "":
        return False
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ValidationFailed(f"{name} must be true or false", details={name: ["Must be true or false."]})


def query_uuid(request, name: str) -> uuid.UUID | None:
    """An optional UUID parameter; a malformed one is a 400 (a filter, not a path)."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    parsed = parse_uuid(value)
    if parsed is None:
        raise ValidationFailed(f"{name} must be a UUID", details={name: ["Must be a valid UUID."]})
    return parsed
