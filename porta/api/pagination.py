"""The one pagination module: page mode (``page``/``pageSize``) and cursor mode (``cursor``/``limit``).

Cursor mode is keyset pagination on ``(sort column, id)``: each page is an index range scan, so
page 10 000 costs what page 1 costs. Cursors are signed, so a forged or edited one is a 400.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
from django.conf import settings
from django.db.models import Q, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from porta.core import versions
from porta.core.errors import BadRequest, ValidationFailed
from porta.core.invalidation import COUNTED_MODELS, rows_stamp

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100
LIMIT_DEFAULT = 100
LIMIT_MAX = 1000
_INT = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True, slots=True)
class Ordering:
    sort: str  # wire name, e.g. "createdAt"
    column: str  # model field, e.g. "created_at"
    descending: bool

    def order_by(self) -> tuple[str, str]:
        sign = "-" if self.descending else ""
        return (f"{sign}{self.column}", f"{sign}pk")


def _int_param(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not _INT.fullmatch(raw) or not (low <= int(raw) <= high):
        raise ValidationFailed(
            f"{name} must be an integer from {low} to {high}",
            details={name: [f"Must be an integer from {low} to {high}."]},
        )
    return int(raw)


def ordering_from_request(
    params: Mapping[str, str], *, sort_fields: Mapping[str, str], default_sort: str, default_order: str
) -> Ordering:
    sort = params.get("sort") or default_sort
    if sort not in sort_fields:
        raise ValidationFailed(
            f"Cannot sort by '{sort}'",
            details={"sort": [f"Must be one of: {', '.join(sorted(sort_fields))}."]},
        )
    order = (params.get("order") or default_order).lower()
    if order not in ("asc", "desc"):
        raise ValidationFailed("order must be asc or desc", details={"order": ["Must be one of: asc, desc."]})
    return Ordering(sort=sort, column=sort_fields[sort], descending=order == "desc")


def _sign(payload: bytes) -> str:
    key = hashlib.sha256(b"porta-cursor:" + settings.PORTA_CURSOR_SECRET.encode()).digest()
    return (
        base64.urlsafe_b64encode(hmac.new(key, payload, hashlib.sha256).digest()[:16]).rstrip(b"=").decode()
    )


def encode_cursor(values: dict[str, Any]) -> str:
    payload = orjson.dumps(values)
    body = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    return f"{body}.{_sign(payload)}"


def decode_cursor(cursor: str) -> dict[str, Any]:
    body, _, signature = cursor.partition(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("Invalid cursor", details={"cursor": ["Malformed or tampered cursor."]}) from exc
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError).
    if not signature or not hmac.compare_digest(signature.encode(), _sign(payload).encode()):
        raise BadRequest("Invalid cursor", details={"cursor": ["Malformed or tampered cursor."]})
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise BadRequest("Invalid cursor", details={"cursor": ["Malformed or tampered cursor."]}) from exc
    if not isinstance(value, dict):
        raise BadRequest("Invalid cursor", details={"cursor": ["Malformed or tampered cursor."]})
    return value


def _keyset_filter(queryset: QuerySet, ordering: Ordering, last_value: Any, last_id: Any) -> QuerySet:
    """Rows strictly after ``(last_value, last_id)`` in the ordering.

    The redundant ``column <=/>= last`` conjunct lets PostgreSQL turn the condition into an index
    range instead of filtering rows from the start of the index.
    """
    column = ordering.column
    if ordering.descending:
        bound = Q(**{f"{column}__lte": last_value})
        after = Q(**{f"{column}__lt": last_value}) | Q(**{column: last_value, "pk__lt": last_id})
    else:
        bound = Q(**{f"{column}__gte": last_value})
        after = Q(**{f"{column}__gt": last_value}) | Q(**{column: last_value, "pk__gt": last_id})
    return queryset.filter(bound & after)


def _cursor_value(obj: Any, column: str) -> Any:
    value = getattr(obj, column)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


_COUNT_CACHE_SIZE = 1000
COUNT_MAX_AGE = 60.0  # bounds staleness should a rows-stamp bump ever be lost
_counts: dict[tuple, tuple[float, int]] = {}


def count(queryset: QuerySet) -> int:
    """``queryset.count()``, remembered per process until a row of its model changes.

    An exact COUNT(*) over 100 000 organizations costs ~10 ms, more than the rest of the request;
    between writes the total cannot change. Only models listed in porta.core.invalidation's
    COUNTED_MODELS are cached (their writes bump the rows stamp); the key is the query's SQL and
    parameters, so filters and the caller's tenant scope are part of it.
    """
    label = queryset.model._meta.label
    if label not in COUNTED_MODELS:
        return queryset.count()
    (stamp,) = versions.read(rows_stamp(queryset.model))
    if stamp is None:
        return queryset.count()
    sql, sql_params = queryset.query.sql_with_params()
    key = (stamp, sql, tuple(map(repr, sql_params)))
    remembered = _counts.get(key)
    if remembered is not None and time.monotonic() - remembered[0] < COUNT_MAX_AGE:
        return remembered[1]
    total = queryset.count()
    if len(_counts) >= _COUNT_CACHE_SIZE:
        _counts.clear()
    _counts[key] = (time.monotonic(), total)
    return total


def wants_cursor(params: Mapping[str, str]) -> bool:
    return "cursor" in params or "limit" in params


def paginate(
    request: Request,
    queryset: QuerySet,
    *,
    ordering: Ordering,
    serialize: Callable[[Sequence[Any]], list[Any]],
    allow_cursor: bool = True,
) -> Response:
    params = request.query_params
    if allow_cursor and wants_cursor(params):
        if "page" in params or "pageSize" in params:
            raise BadRequest("Use either page/pageSize or cursor/limit, not both")
        return _cursor_page(request, queryset, ordering=ordering, serialize=serialize)
    page = _int_param(params, "page", 1, 1, 10**9)
    page_size = _int_param(params, "pageSize", PAGE_SIZE_DEFAULT, 1, PAGE_SIZE_MAX)
    total = count(queryset)
    offset = (page - 1) * page_size
    rows = (
        list(queryset.order_by(*ordering.order_by())[offset : offset + page_size]) if offset < total else []
    )
    return Response(
        {
            "data": serialize(rows),
            "pagination": {
                "total": total,
                "page": page,
                "pageSize": page_size,
                "totalPages": math.ceil(total / page_size) if total else 0,
            },
        }
    )


def _cursor_page(
    request: Request,
    queryset: QuerySet,
    *,
    ordering: Ordering,
    serialize: Callable[[Sequence[Any]], list[Any]],
) -> Response:
    params = request.query_params
    limit = _int_param(params, "limit", LIMIT_DEFAULT, 1, LIMIT_MAX)
    cursor = params.get("cursor") or ""
    queryset = queryset.order_by(*ordering.order_by())
    if cursor:
        state = decode_cursor(cursor)
        if state.get("s") != ordering.sort or state.get("d") != ordering.descending:
            raise BadRequest(
                "The cursor belongs to another sort order", details={"cursor": ["Sort or order changed."]}
            )
        field = queryset.model._meta.get_field(ordering.column)
        try:
            last_value = field.to_python(state.get("v"))
            last_id = queryset.model._meta.pk.to_python(state.get("i"))
        except Exception as exc:  # noqa: BLE001 - any conversion failure means a bad cursor
            raise BadRequest("Invalid cursor", details={"cursor": ["Malformed or tampered cursor."]}) from exc
        queryset = _keyset_filter(queryset, ordering, last_value, last_id)
    rows = list(queryset[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    headers = {}
    if has_more:
        last = rows[-1]
        next_cursor = encode_cursor(
            {
                "s": ordering.sort,
                "d": ordering.descending,
                "v": _cursor_value(last, ordering.column),
                "i": str(last.pk),
            }
        )
        query = {k: v for k, v in params.items() if k != "cursor"}
        query.update({"cursor": next_cursor, "limit": str(limit)})
        headers["Link"] = f'<{request.build_absolute_uri(request.path)}?{urlencode(query)}>; rel="next"'
    return Response(
        {
            "data": serialize(rows),
            "pagination": {"nextCursor": next_cursor, "hasMore": has_more, "limit": limit},
        },
        headers=headers,
    )
