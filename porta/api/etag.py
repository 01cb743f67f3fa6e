"""Strong ETags: a digest of the exact representation, so any visible change changes the tag."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from rest_framework.request import Request

from porta.core.errors import PreconditionFailed


def etag_for(representation: Any) -> str:
    digest = hashlib.sha256(orjson.dumps(representation, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f'"{digest[:32]}"'


@dataclass(frozen=True, slots=True)
class IfMatch:
    """The request's ``If-Match`` precondition as a value: the tags the client offered and how a
    row is represented (its tag is the digest of that). Services receive this and check it on
    the row they have locked, so two writers holding the same ETag cannot both succeed; they
    never see the view or the request."""

    offered: tuple[str, ...]
    represent: Callable[[Any], Any]

    @classmethod
    def from_request(cls, request: Request, represent: Callable[[Any], Any]) -> IfMatch | None:
        """None when nothing is to be checked: no ``If-Match``, or ``*``."""
        header = request.META.get("HTTP_IF_MATCH")
        if not header:
            return None
        offered = tuple(tag.strip() for tag in header.split(","))
        if "*" in offered:
            return None
        return cls(offered, represent)

    def __call__(self, row: Any) -> None:
        """412 unless ``row``'s current strong tag is one of those offered."""
        current = etag_for(self.represent(row))
        if current not in self.offered:
            raise PreconditionFailed(
                "The resource has changed since it was read (If-Match does not match)",
                extra={"currentETag": current},
            )
