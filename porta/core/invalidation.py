"""Which writes invalidate which per-process caches, in one place (the signal receivers are
connected by the wiring, porta.invalidation).

- Any saved or deleted user, organization, role, permission or assignment bumps the PRINCIPALS
  stamp (cached admin authorizations).
- Any saved or deleted row of a model with counted lists bumps that model's rows stamp (cached
  list totals, see porta.api.pagination).

Stamps are bumped at once and again on commit: at once so this request's own transaction sees
it, on commit so no other process can re-cache the old state between the bump and the commit.
Bulk writes that bypass model signals (QuerySet.update, bulk_create, COPY) must call
``principals_changed`` / ``rows_changed`` themselves.
"""

from __future__ import annotations

from django.db import transaction

from porta.core import versions


def principals_changed(**_: object) -> None:
    versions.bump(versions.PRINCIPALS)
    transaction.on_commit(lambda: versions.bump(versions.PRINCIPALS))


def rows_stamp(model) -> str:
    return f"rows:{model._meta.label_lower}"


def rows_changed(model) -> None:
    versions.bump(rows_stamp(model))
    transaction.on_commit(lambda: versions.bump(rows_stamp(model)))


def rows_changed_signal(sender, **_: object) -> None:
    rows_changed(sender)


#: Models whose list totals are cached between writes.
COUNTED_MODELS = (
    "organizations.Organization",
    "audit.AuditEntry",
    "applications.Application",
    "applications.Client",
    "organizations.User",
)
