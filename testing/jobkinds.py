"""Job kinds for the test suite (installed when PORTA_ENV=test, so real workers have them too).

``testing.count`` walks ``items`` numbers in chunks of ``chunk``, writing one audit entry per item
(target id = the item) as the job's starter, with the checkpoint in the same transaction: the
audit trail then shows whether an item was applied twice. ``pause`` seconds between chunks give a
test time to kill a worker or cancel mid-job. ``testing.file`` writes ``content`` to a file;
``testing.fail`` fails with ``message`` (``internal``: an unexpected exception instead;
``unstorable``: a result that is not JSON).
"""

from __future__ import annotations

import io
import time

from django.apps import AppConfig
from django.db import transaction

from porta.core.errors import ValidationFailed


def count(ctx) -> dict:
    from audit import services as audit

    items, chunk, pause = (
        ctx.parameters["items"],
        ctx.parameters.get("chunk", 10),
        ctx.parameters.get("pause", 0),
    )
    ctx.set_total(items)
    start = ctx.state.get("next", 0)
    while start < items:
        ctx.check_cancelled()
        end = min(items, start + chunk)
        with transaction.atomic():
            audit.record_many(
                audit.entry(
                    event_type="testing.counted",
                    actor=ctx.actor,
                    organization_id=ctx.organization_id,
                    target_type="testing_item",
                    target_id=str(item),  # audit stores "" for a falsy 0
                    metadata={"jobId": str(ctx.id), "attempt": ctx.attempt},
                )
                for item in range(start, end)
            )
            ctx.progress(done=end, state={"next": end})
        start = end
        if pause:
            time.sleep(pause)
    return {"counted": items, "attempts": ctx.attempt}


def write_file(ctx) -> dict:
    content: str = ctx.parameters["content"]
    with ctx.write_file(ctx.parameters.get("name", "out.txt"), "text/plain; charset=utf-8") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        text.write(content)
        text.flush()
        text.detach()
    return {"characters": len(content)}


def fail(ctx) -> object:
    if ctx.parameters.get("unstorable"):
        return {"when": object()}
    if ctx.parameters.get("internal"):
        raise RuntimeError("a secret detail that must not reach the API")
    raise ValidationFailed(ctx.parameters.get("message", "The job cannot run"))


class TestJobKindsConfig(AppConfig):
    name = "testing"
    label = "testing_jobkinds"
    verbose_name = "Test job kinds"

    def ready(self) -> None:
        from jobs import registry

        registry.register("testing.count", count, description="Counts items (tests)")
        registry.register("testing.file", write_file, description="Writes a file (tests)")
        registry.register("testing.fail", fail, description="Fails (tests)")
