"""Reads behind ``/stats``: the numbers of one scope (all organizations or one), from the tallies
on PostgreSQL and by counting on other databases.

Windows are whole UTC hours: "last 24 h" is the current hour so far plus the 24 hours before it
(and so for 7 and 30 days), because the tallies keep time series per hour. Both paths use the same
boundaries, so they give the same numbers (``tests/test_stats.py`` holds them to that).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Q, QuerySet

from applications.models import ApplicationStatus, ClientStatus
from applications.selectors.applications import applications
from applications.selectors.clients import clients
from audit.selectors import audit_entries
from organizations.models import OrganizationStatus, UserStatus
from organizations.selectors import organizations
from organizations.user_selectors import users
from stats.models import ALL_ORGANIZATIONS, NO_BUCKET, Metric

WINDOWS = {
    "last24h": dt.timedelta(hours=24),
    "last7d": dt.timedelta(days=7),
    "last30d": dt.timedelta(days=30),
}
LOGIN_EVENTS = {"user.login": Metric.LOGINS_SUCCEEDED, "user.login.failed": Metric.LOGINS_FAILED}


@dataclass
class Counts:
    """One metric and label: its total (counts by status) and its sums over the windows."""

    total: int = 0
    last24h: int = 0
    last7d: int = 0
    last30d: int = 0


Tallies = dict[tuple[str, str], Counts]


def window_starts(now: dt.datetime) -> dict[str, dt.datetime]:
    hour = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return {name: hour - span for name, span in WINDOWS.items()}


# Both the folded tallies and the deltas not yet folded: rows of the scope that are counts by
# status or fall within the widest window (older hours are never read, and are pruned).
_TALLIES_SQL = """
    SELECT metric, label,
        coalesce(sum(n) FILTER (WHERE bucket = %(none)s), 0)::bigint,
        coalesce(sum(n) FILTER (WHERE bucket >= %(last24h)s), 0)::bigint,
        coalesce(sum(n) FILTER (WHERE bucket >= %(last7d)s), 0)::bigint,
        coalesce(sum(n) FILTER (WHERE bucket >= %(last30d)s), 0)::bigint
    FROM (
        SELECT metric, label, bucket, n FROM stats_tally
        WHERE organization_id = %(scope)s AND (bucket = %(none)s OR bucket >= %(last30d)s)
        UNION ALL
        SELECT metric, label, bucket, n FROM stats_tallydelta
        WHERE organization_id = %(scope)s AND (bucket = %(none)s OR bucket >= %(last30d)s)
    ) t
    GROUP BY metric, label
"""


def tallied(scope: uuid.UUID, starts: dict[str, dt.datetime]) -> Tallies:
    """The tallies of ``scope`` (an organization's id, or ALL_ORGANIZATIONS): a few hundred rows
    at most, whatever the number of users."""
    with connection.cursor() as cursor:
        cursor.execute(_TALLIES_SQL, {"scope": scope, "none": NO_BUCKET, **starts})
        rows = cursor.fetchall()
    return defaultdict(Counts, {(metric, label): Counts(*numbers) for metric, label, *numbers in rows})


def _by_status(queryset: QuerySet, metric: str, into: Tallies) -> None:
    for row in queryset.order_by().values("status").annotate(n=Count("pk")):
        into[(metric, row["status"])].total = row["n"]


def _in_windows(queryset: QuerySet, field: str, starts: dict[str, dt.datetime]) -> Counts:
    counts = queryset.order_by().aggregate(
        **{name: Count("pk", filter=Q(**{f"{field}__gte": start})) for name, start in starts.items()}
    )
    return Counts(**counts)


def counted(organization_id: uuid.UUID | None, starts: dict[str, dt.datetime]) -> Tallies:
    """The same numbers as ``tallied``, counted from the rows (one scan per table): the path of
    databases without the triggers (the embedded SQLite default)."""
    result: Tallies = defaultdict(Counts)
    scoped_users, scoped_clients = users(), clients()
    logins = audit_entries().filter(event_type__in=LOGIN_EVENTS)
    if organization_id is not None:
        scoped_users = scoped_users.filter(organization_id=organization_id)
        scoped_clients = scoped_clients.filter(organization_id=organization_id)
        logins = logins.filter(organization_id=organization_id)
    else:
        _by_status(organizations(), Metric.ORGANIZATIONS, result)
        _by_status(applications(), Metric.APPLICATIONS, result)
    _by_status(scoped_users, Metric.USERS, result)
    _by_status(scoped_clients, Metric.CLIENTS, result)
    result[(Metric.USERS_CREATED, "")] = _in_windows(scoped_users, "created_at", starts)
    result[(Metric.USERS_LAST_LOGIN, "")] = _in_windows(scoped_users, "last_login", starts)
    for event, metric in LOGIN_EVENTS.items():
        result[(metric, "")] = _in_windows(logins.filter(event_type=event), "created_at", starts)
    return result


def tallies(organization_id: uuid.UUID | None, now: dt.datetime) -> Tallies:
    starts = window_starts(now)
    if connection.vendor == "postgresql":
        return tallied(organization_id or ALL_ORGANIZATIONS, starts)
    return counted(organization_id, starts)


def _statuses(t: Tallies, metric: str, choices) -> dict[str, int]:
    counts = {status: t[(metric, status)].total for status in choices.values}
    return {"total": sum(counts.values()), **counts}


def _users(t: Tallies) -> dict[str, int]:
    return {
        **_statuses(t, Metric.USERS, UserStatus),
        "newLast7d": t[(Metric.USERS_CREATED, "")].last7d,
        "newLast30d": t[(Metric.USERS_CREATED, "")].last30d,
        "activeLast30d": t[(Metric.USERS_LAST_LOGIN, "")].last30d,
    }


def _login_activity(t: Tallies) -> dict[str, dict[str, int]]:
    succeeded, failed = t[(Metric.LOGINS_SUCCEEDED, "")], t[(Metric.LOGINS_FAILED, "")]
    return {
        window: {"successful": getattr(succeeded, window), "failed": getattr(failed, window)}
        for window in WINDOWS
    }


def overview_numbers(now: dt.datetime) -> dict:
    t = tallies(None, now)
    return {
        "organizations": _statuses(t, Metric.ORGANIZATIONS, OrganizationStatus),
        "users": _users(t),
        "applications": _statuses(t, Metric.APPLICATIONS, ApplicationStatus),
        "clients": _statuses(t, Metric.CLIENTS, ClientStatus),
        "loginActivity": _login_activity(t),
    }


def organization_numbers(organization_id: uuid.UUID, now: dt.datetime) -> dict:
    t = tallies(organization_id, now)
    return {
        "users": _users(t),
        "clients": _statuses(t, Metric.CLIENTS, ClientStatus),
        "loginActivity": _login_activity(t),
    }
