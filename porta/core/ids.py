"""Time-ordered UUIDv7 primary keys: index-friendly inserts and a natural creation order."""

import uuid

import uuid_utils.compat as _uuid_compat


def uuid7() -> uuid.UUID:
    return _uuid_compat.uuid7()


def parse_uuid(value: object) -> uuid.UUID | None:
    """The UUID ``value`` spells, or None (a malformed id in a path is a 404, never a 500)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None
