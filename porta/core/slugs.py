"""Slug rules shared by organizations, applications, modules, roles and permissions (upstream
Porta §5), and the one way a write chooses a slug and turns a taken one into a 409."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from porta.core.errors import Conflict, ValidationFailed

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


def checked_slug(slug: str, problem: Callable[[str], str | None]) -> str:
    """``slug`` when ``problem`` finds nothing wrong with it; otherwise a 400 naming the field."""
    if (found := problem(slug)) is not None:
        raise ValidationFailed(found, details={"slug": [found]})
    return slug


def slug_for(
    name: str,
    slug: str | None,
    *,
    taken: QuerySet,
    reserved: frozenset[str] = frozenset(),
    suffix: str,
    problem: Callable[[str], str | None] | None = None,
) -> str:
    """The slug of a new row: ``slug`` when the caller chose one (checked by ``problem``, by
    default :func:`slug_problem`), else one generated from ``name`` and unused among ``taken``.
    A chosen slug that is taken is left to :func:`unique_slug`, which the database decides."""
    if slug is None:
        return available_slug(name, taken=taken, reserved=reserved, suffix=suffix)
    return checked_slug(slug, problem or (lambda candidate: slug_problem(candidate, reserved)))


@contextmanager
def unique_slug(slug: str) -> Iterator[None]:
    """Save inside this block: a unique violation (the slug is taken, however close the race) is
    a 409 naming ``slug``, and the surrounding transaction goes on."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        raise Conflict(f"Slug '{slug}' is already in use", details={"slug": ["Slug already in use"]}) from exc
