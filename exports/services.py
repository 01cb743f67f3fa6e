"""The one write an export makes: its audit entry (who took which rows out, in what form)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from audit import services as audit
from porta.core.context import Actor


@transaction.atomic
def export_recorded(
    *,
    actor: Actor,
    entity: str,
    export_format: str,
    filters: dict[str, Any],
    organization_id: uuid.UUID | None,
    event_type: str = "export.downloaded",
    target_id: Any = None,
) -> None:
    """Exports take personal data out of Porta in bulk, so each one is in the trail, like the
    GDPR export of one user, with the filters that chose its rows."""
    audit.record(
        event_type=event_type,
        actor=actor,
        target_type="export",
        target_id=target_id or entity,
        organization_id=organization_id,
        metadata={"entity": entity, "format": export_format, "filters": filters},
    )
