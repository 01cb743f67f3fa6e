"""Exports run as jobs (``POST /export/{entity}``, and a GET too large to stream in a request): the
same stream as the GET, written to the job's file, which ``GET /jobs/{id}/download`` serves.

The export is one COPY, one snapshot: a worker that dies mid-export leaves no partial file (the
file is stored only when the stream has ended), and the redelivered job simply writes it again.
Progress is therefore reported once, at the end (rows exported), and a cancel is honoured before
the file is stored.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from exports.columns import SPECS
from exports.selectors import narrowed, rows_within
from exports.streaming import FORMATS, Tally, download_name, export_stream
from porta.api.serializers import iso_ms

KINDS = {f"exports.{entity}": entity for entity in SPECS}


def run_export(ctx) -> dict[str, Any]:
    spec = SPECS[KINDS[ctx.kind]]
    export_format = ctx.parameters["format"]
    rows = narrowed(spec, rows_within(spec, ctx.organization_id), ctx.parameters.get("query", {}))
    now = timezone.now().astimezone(datetime.UTC)
    tally = Tally()
    ctx.check_cancelled()
    with ctx.write_file(download_name(spec, export_format, now), FORMATS[export_format][0]) as file:
        for chunk in export_stream(spec, rows, export_format, now=now, tally=tally):
            file.write(chunk)
    ctx.set_total(tally.rows)
    ctx.progress(done=tally.rows)
    return {"entity": spec.entity, "format": export_format, "total": tally.rows, "exportedAt": iso_ms(now)}
