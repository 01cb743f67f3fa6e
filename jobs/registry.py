"""The kinds of job, filled in by the apps that define them (in their ``AppConfig.ready()``), so
jobs runs bulk changes, exports and imports without importing any of those apps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.runner import JobContext

#: A handler does the work. It returns the job's result (JSON-able, or None) and raises a
#: ``porta.core.errors.ApiError`` to fail the job with a message the caller may read.
Handler = Callable[["JobContext"], Any]


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    handler: Handler
    #: Said in the Django admin and the OpenAPI description.
    description: str = ""


_kinds: dict[str, JobKind] = {}


def register(name: str, handler: Handler, *, description: str = "") -> JobKind:
    """Register a kind of job (once per process; registering a name twice with another handler is
    a programming error)."""
    existing = _kinds.get(name)
    if existing is not None and existing.handler is not handler:
        raise ValueError(f"job kind {name!r} is already registered")
    kind = _kinds[name] = JobKind(name=name, handler=handler, description=description)
    return kind


def unregister(name: str) -> None:
    """For tests that register a kind of their own."""
    _kinds.pop(name, None)


def get(name: str) -> JobKind | None:
    return _kinds.get(name)


def names() -> list[str]:
    return sorted(_kinds)
