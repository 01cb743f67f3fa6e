"""Who is acting, from where: set once per request (or task) and read by ``audit.record``.

A context variable rather than arguments threaded through every call, so a service called from a
view, a Celery task or a management command records the same fields.
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Actor:
    """The principal a change is attributed to."""

    type: str  # "user", "api_key", "system"
    id: uuid.UUID | None = None
    label: str = ""

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(type="system", id=None, label=label)


@dataclass(slots=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    user_agent: str = ""
    extra: dict = field(default_factory=dict)
    #: Version stamps already read in this HTTP request (porta.core.versions): set by the
    #: request middleware only, so a long task never keeps a stamp it read at its start.
    stamps: dict[str, str | None] | None = None


_request_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "porta_request_context", default=None
)


def current_request_context() -> RequestContext:
    return _request_context.get() or RequestContext()


def request_stamps() -> dict[str, str | None] | None:
    """The stamps memo of the current HTTP request, or None outside one."""
    ctx = _request_context.get()
    return ctx.stamps if ctx is not None else None


def set_request_context(ctx: RequestContext | None) -> contextvars.Token:
    return _request_context.set(ctx)


def reset_request_context(token: contextvars.Token) -> None:
    _request_context.reset(token)
