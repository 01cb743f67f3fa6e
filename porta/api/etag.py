"""Strong ETags: a digest of the exact representation, so any visible change changes the tag."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from rest_framework.request import Request

from porta.core.errors import PreconditionFailed


def etag_for(representation: Any) -> str:
    digest = hashlib.sha256(orjson.dumps(representation, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f'"{digest[:32]}"'


def check_if_match(request: Request, current_representation: Any) -> None:
    """412 unless ``If-Match`` is absent, ``*``, or lists the current strong tag."""
    header = request.META.get("HTTP_IF_MATCH")
    if not header:
        return
    offered = [tag.strip() for tag in header.split(",")]
    if "*" in offered:
        return
    current = etag_for(current_representation)
    if current not in offered:
        raise PreconditionFailed(
            "The resource has changed since it was read (If-Match does not match)",
            extra={"currentETag": current},
        )
