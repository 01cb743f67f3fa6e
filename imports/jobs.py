"""The ``imports.manifest`` job: a large manifest imported by a worker exactly as ``POST /import``
imports a small one (imports.services), so the request does not hold a web worker for long.

* The job acts as its starter with the admin roles and permissions they held when they started it
  (as a request does for its whole duration), within their organization scope (the job's
  organization; None for a global credential).
* Exactly once: the import is one transaction, and the job's checkpoint (its report) commits in
  that same transaction. A worker killed mid-import leaves nothing behind and the redelivered job
  imports from the start; one killed after the commit leaves the checkpoint, and the redelivered
  job only reports it. No item is applied twice.
* A failed import (items in error, all rolled back) fails the job with the message of the 422 the
  request would have had; the full report is the job's file (``GET /jobs/{id}/download``).
"""

from __future__ import annotations

from typing import Any

import orjson
from django.utils import timezone

from imports.manifest import Manifest, parse_manifest
from imports.services import Importer, ImportFailed, import_manifest
from jobs.models import Job
from jobs.runner import JobContext
from jobs.services import job_enqueue
from rbac.selectors import AdminAuthorization

KIND = "imports.manifest"


def import_enqueue(*, importer: Importer, mode: str, manifest: Manifest) -> Job:
    """Queue the import of ``manifest`` (already checked: structure, secrets, scope)."""
    return job_enqueue(
        kind=KIND,
        actor=importer.actor,
        organization_id=importer.scope_organization_id,
        parameters={
            "mode": mode,
            "manifest": manifest.as_json(),
            "grantedRoles": sorted(importer.authorization.roles),
            "grantedPermissions": sorted(importer.authorization.permissions),
        },
        total=manifest.item_count,
    )


def import_run(ctx: JobContext) -> dict[str, Any]:
    if "report" in ctx.state:  # committed by an attempt whose worker died before finishing the job
        return ctx.state["report"]
    parameters = ctx.parameters
    manifest = parse_manifest(parameters["manifest"])
    importer = Importer(
        actor=ctx.actor,
        authorization=AdminAuthorization(
            frozenset(parameters["grantedRoles"]), frozenset(parameters["grantedPermissions"])
        ),
        scope_organization_id=ctx.organization_id,
    )
    ctx.check_cancelled()

    def checkpoint(report: dict[str, Any]) -> None:
        # Inside the import's transaction: the rows, the progress and the report commit together
        # (and a cancel that came meanwhile rolls the import back).
        ctx.progress(done=manifest.item_count, state={"report": report})

    try:
        report = import_manifest(
            importer=importer, mode=parameters["mode"], manifest=manifest, on_applied=checkpoint
        )
    except ImportFailed as failed:
        stamp = timezone.now().strftime("%Y-%m-%dT%H-%M-%S")
        with ctx.write_file(f"import-report-{stamp}.json", "application/json") as file:
            file.write(orjson.dumps(failed.extra["report"]))
        raise
    if not report["applied"]:  # a dry run: nothing committed, nothing to checkpoint
        ctx.progress(done=manifest.item_count)
    return report
