"""Importing a manifest: every row through its own domain service, all in one transaction.

* **Order**: sections in dependency order (organizations, applications, permissions, roles, claim
  definitions, clients), so a row can name one the same manifest creates.
* **Modes**: ``merge`` creates what is missing and skips what exists; ``overwrite`` also updates
  what exists with the fields the item states (fields it leaves out keep their value; a role's
  ``permissions`` become exactly the list); ``dry-run`` runs the merge for real and rolls it back,
  so its report (and its status) is exactly what ``merge`` would answer, and nothing changes.
* **Atomicity**: each item runs in a savepoint so every failing item is reported, and any failure
  rolls back the whole import: the answer is then 422 with the report, and nothing was changed.
* **As through the API**: each item is checked by its resource's API serializer, needs the
  permission the API route would need (``admin:org:create`` to create an organization…), and is
  written by the service the API calls, so it is validated, guarded and audited the same way.
  One more entry, ``import.completed``, records the import itself.
* **Never secrets**: a manifest carrying secret-like keys is refused whole (400, imports.manifest);
  a confidential client is created without a secret (its admin adds one through
  ``POST /clients/{id}/secrets``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from audit import services as audit
from imports.manifest import GLOBAL_SECTIONS, SECTIONS, Manifest
from imports.rows import Importer, ManifestRun, Report
from organizations.models import Organization
from porta.core.errors import Forbidden, NotFound, UnprocessableEntity, ValidationFailed

__all__ = ["MODES", "ImportFailed", "Importer", "check_scope", "import_manifest"]

MODES = ("dry-run", "merge", "overwrite")


class ImportFailed(UnprocessableEntity):
    """Some items failed; the whole import was rolled back. The body carries the full report."""

    def __init__(self, report: dict[str, Any]) -> None:
        errors = report["totals"]["errors"]
        super().__init__(
            f"Import failed: {errors} item(s) in error; nothing was changed", extra={"report": report}
        )


class _RolledBack(Exception):
    """Raised inside the import's transaction to undo it (a dry run, or items in error)."""


# -- scope ------------------------------------------------------------------------------------------


def check_scope(importer: Importer, manifest: Manifest) -> None:
    """Refuse, before anything runs, a manifest reaching outside an organization-scoped caller's
    organization: global sections → 403; any other organization (whether it exists or not) → 404,
    as for every row of another tenant."""
    scope = importer.scope_organization_id
    if scope is None:
        return
    global_sections = sorted(key for key in GLOBAL_SECTIONS if manifest.items(key))
    if global_sections:
        raise Forbidden(
            "Organization-scoped credentials cannot import global resources: " + ", ".join(global_sections)
        )
    own_slug = Organization.objects.filter(pk=scope).values_list("slug", flat=True).first()
    named = [item.get("slug") for item in manifest.items("organizations") if isinstance(item, dict)]
    named += [item.get("organizationSlug") for item in manifest.items("clients") if isinstance(item, dict)]
    if any(slug != own_slug for slug in named if slug is not None):
        raise NotFound("Organization not found")


# -- the import -------------------------------------------------------------------------------------


def import_manifest(
    *,
    importer: Importer,
    mode: str,
    manifest: Manifest,
    on_applied: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Import ``manifest`` (see the module's docstring). Returns the report; raises ImportFailed
    (422, the report in its body) when any item failed, after rolling everything back.
    ``on_applied(report)`` runs inside the import's transaction once everything is written (a
    job's checkpoint commits with the rows)."""
    if mode not in MODES:
        raise ValidationFailed(f"Unknown mode: {mode}", details={"mode": [f"One of {', '.join(MODES)}."]})
    check_scope(importer, manifest)
    report = Report(mode)
    run = ManifestRun(importer=importer, overwrite=mode == "overwrite", report=report)
    applied = False
    try:
        with transaction.atomic():
            for section in SECTIONS:
                for index, item in enumerate(manifest.items(section.key)):
                    run.item(section, index, item)
            if report.total("errors") or mode == "dry-run":
                raise _RolledBack
            audit.record(
                event_type="import.completed",
                actor=importer.actor,
                organization_id=importer.scope_organization_id,
                target_type="import",
                metadata={"mode": mode, **report.as_json(applied=True)["totals"]},
            )
            if on_applied is not None:
                on_applied(report.as_json(applied=True))
            applied = True
    except _RolledBack:
        pass
    body = report.as_json(applied=applied)
    if report.total("errors"):
        raise ImportFailed(body)
    return body
