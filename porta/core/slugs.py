"""Slug rules shared by organizations and applications (upstream Porta §5)."""

from __future__ import annotations

import re
import unicodedata

from django.db.models import QuerySet

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,98}[a-z0-9]$")
SLUG_MAX = 100


def slug_from_name(name: str) -> str:
    """Lowercase ASCII, runs of anything else → one hyphen, trimmed to 100 characters."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9-]+", "-", ascii_name.lower())
    slug = re.sub(r"-+", "-", slug).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def slug_problem(slug: str, reserved: frozenset[str]) -> str | None:
    """Why ``slug`` cannot be used, or None when its format is fine (uniqueness aside)."""
    if not SLUG_PATTERN.match(slug):
        return (
            "Slug must be 3-100 characters of lowercase letters, digits and hyphens, "
            "and must not start or end with a hyphen"
        )
    if slug in reserved:
        return f"Slug '{slug}' is reserved"
    return None


def available_slug(name: str, *, taken: QuerySet, reserved: frozenset[str], suffix: str) -> str:
    """A slug generated from ``name``: well-formed, not reserved, and not used by any row of
    ``taken`` (a taken one gets -2, -3…). Too short or reserved bases get ``-<suffix>``."""
    base = slug_from_name(name)
    if len(base) < 3:
        base = (base + f"-{suffix}").strip("-")
    base = base[:90].rstrip("-")
    if slug_problem(base, reserved) is not None:
        base = f"{base}-{suffix}"
    candidate, n = base, 1
    while taken.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate
