"""One-time tokens: invitation links, recovery links and codes share this one primitive.

A token is 256 random bits from ``secrets``, shown once (in a link) and stored only as its keyed
hash (HMAC-SHA256 with the server pepper, porta.core.tokens). It expires, and it is spent at most once:
spending is a single conditional UPDATE (``... WHERE used_at IS NULL AND expires_at > now``), so of
two concurrent spends PostgreSQL lets exactly one change the row — the other waits for the row
lock, re-reads the row and matches nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from django.db import models
from django.utils import timezone

from porta.core.tokens import keyed_hash, matches, new_secret


class OneTimeToken(models.Model):
    """The columns every one-time token row has."""

    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    #: When the token was spent (or, for invitations, superseded by a newer one).
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


Row = TypeVar("Row", bound=OneTimeToken)


@dataclass(frozen=True)
class NewToken:
    token: str  # goes into the link, never into the database
    token_hash: str
    expires_at: datetime.datetime


def issue(ttl: datetime.timedelta) -> NewToken:
    token = new_secret()
    return NewToken(token=token, token_hash=keyed_hash(token), expires_at=timezone.now() + ttl)


def find(rows: models.QuerySet[Row], token: str) -> Row | None:
    """The row of ``rows`` that ``token`` names, spent or expired alike (callers say which).

    The lookup goes by the keyed hash through the unique index; the hash is then compared again in
    constant time, so no timing of the database comparison can tell how much of a guess matched.
    """
    row = rows.filter(token_hash=keyed_hash(token)).first()
    if row is None or not matches(token, row.token_hash):
        return None
    return row


def spend(rows: models.QuerySet[Row], *, also_stamp: Iterable[str] = ()) -> datetime.datetime | None:
    """Spend the token row ``rows`` narrows to: one UPDATE sets ``used_at`` (and the
    ``also_stamp`` fields) to now if the row is still unspent and unexpired. Returns that time, or
    None when the token was spent, superseded or expired meanwhile — another request won, and this
    one must not act.

    Narrow ``rows`` to one pk, plus any condition of the caller on the token table's own columns:
    a join would make Django write ``pk IN (subquery)``, which PostgreSQL does not re-check against
    a row another transaction changed meanwhile.
    """
    now = timezone.now()
    stamps = dict.fromkeys(["used_at", *also_stamp], now)
    changed = rows.filter(used_at__isnull=True, expires_at__gt=now).update(**stamps)
    return now if changed else None
