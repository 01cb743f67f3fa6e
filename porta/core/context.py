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


_request_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "porta_request_context", default=None
)


def current_request_context() -> RequestContext:
    return _request_context.get() or RequestContext()


def set_request_context(ctx: RequestContext | None) -> contextvars.Token:
    return _request_context.set(ctx)


def reset_request_context(token: contextvars.Token) -> None:
    _request_context.reset(token)
