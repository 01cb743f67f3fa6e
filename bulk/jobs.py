"""The job kinds of the filter form: ``bulk.organizations.status`` and ``bulk.users.status``.

A job walks the rows its filter selects in id order, a chunk at a time (``PORTA_BULK_CHUNK_SIZE``),
each chunk one transaction that changes the rows set-based, writes their audit entries and
commits the job's checkpoint (the last id done, the counts). A worker killed mid-job loses at
most the chunk in flight, which rolled back; the redelivered task resumes after the checkpoint,
so no item is applied twice. A cancel stops the job between chunks.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from bulk.services import Tally, apply_chunk
from bulk.targets import ORGANIZATIONS, TARGETS, USERS, BulkTarget
from jobs.runner import JobContext
from porta.core.errors import ValidationFailed


def kind_name(target: BulkTarget) -> str:
    return f"bulk.{target.name}.status"


def parameters(
    *, organization_id: Any | None, filters: dict[str, Any], action: str, reason: str | None
) -> dict:
    """What a job of the filter form is asked to do (stored on the job, shown by ``GET /jobs``)."""
    return {
        **({"organizationId": str(organization_id)} if organization_id is not None else {}),
        "filter": filters,
        "action": action,
        **({"reason": reason} if reason else {}),
    }


def selected_rows(target: BulkTarget, ctx: JobContext) -> QuerySet:
    """The rows the job's filter selects, inside its organization (the users' ``organizationId``,
    and the scope of the credential that started it)."""
    rows = target.model._default_manager.all()
    if ctx.organization_id is not None:
        rows = rows.filter(**{target.organization_field: ctx.organization_id})
    organization_id = ctx.parameters.get("organizationId")
    if organization_id is not None:
        rows = rows.filter(**{target.organization_field: organization_id})
    filters = ctx.parameters.get("filter") or {}
    if not filters:  # the view refuses this; a job row written otherwise must not act on everything
        raise ValidationFailed("An empty filter would act on every row")
    filterset = target.filterset_class(filters, queryset=rows)
    if not filterset.is_valid():
        raise ValidationFailed("Invalid filter: " + ", ".join(sorted(filterset.errors)))
    return filterset.qs


def run_status_change(target: BulkTarget, ctx: JobContext) -> dict[str, Any]:
    rows = selected_rows(target, ctx)
    action, reason = ctx.parameters["action"], ctx.parameters.get("reason")
    if action not in target.actions:
        raise ValidationFailed(f"Unknown action '{action}'")
    total = ctx.job.progress_total
    if total is None:
        total = rows.count()
        ctx.set_total(total)
    tally = Tally.load(ctx.state)
    metadata = {"jobId": str(ctx.id)}
    while True:
        ctx.check_cancelled()
        with transaction.atomic():
            read = apply_chunk(
                target=target,
                actor=ctx.actor,
                rows=rows,
                action=action,
                reason=reason,
                tally=tally,
                size=settings.PORTA_BULK_CHUNK_SIZE,
                metadata=metadata,
            )
            if not read:
                break
            ctx.progress(done=tally.done, state=tally.dump())
    return tally.result(total)


def organizations_status(ctx: JobContext) -> dict[str, Any]:
    return run_status_change(ORGANIZATIONS, ctx)


def users_status(ctx: JobContext) -> dict[str, Any]:
    return run_status_change(USERS, ctx)


HANDLERS = {ORGANIZATIONS.name: organizations_status, USERS.name: users_status}


def register() -> None:
    from jobs import registry

    for name, target in TARGETS.items():
        registry.register(
            kind_name(target), HANDLERS[name], description=f"Bulk status change of {target.name}"
        )
