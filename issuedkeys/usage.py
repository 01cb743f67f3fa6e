"""``lastUsedAt`` of issued API keys, written in batches (porta.core.usage).

Verification notes a key's use at most once per key per process every
``PORTA_ISSUED_KEY_LAST_USED_RESOLUTION`` seconds, in Redis; :func:`flush` (Celery beat,
``issuedkeys.tasks.flush_issued_key_last_used``, every 30 s as Ory's Talos does) writes every
pending value in two queries per thousand keys. The API shows the later of the stored and the
pending value (:func:`pending`). A use is not a change of the key: neither ``updatedAt`` nor the
audit trail moves.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from issuedkeys.models import IssuedApiKey
from porta.core.usage import UsageNotes

PENDING_KEY = "porta:issuedkeys:last_used"
FLUSH_BATCH = 1000

_notes = UsageNotes(PENDING_KEY, resolution=lambda: settings.PORTA_ISSUED_KEY_LAST_USED_RESOLUTION)

forget = _notes.forget
note_use = _notes.note_use
pending = _notes.pending


def flush() -> int:
    """Move the uses noted since the last flush to ``last_used_at`` (never backwards); returns
    how many keys changed. Uses taken from Redis are put back if the write fails."""
    taken = _notes.take_pending()
    updated = 0
    try:
        items = list(taken.items())
        for start in range(0, len(items), FLUSH_BATCH):
            batch = dict(items[start : start + FLUSH_BATCH])
            with transaction.atomic():
                rows = list(IssuedApiKey.objects.filter(pk__in=batch).only("id", "last_used_at"))
                changed = []
                for row in rows:
                    used_at = batch[row.id]
                    if row.last_used_at is None or row.last_used_at < used_at:
                        row.last_used_at = used_at
                        changed.append(row)
                IssuedApiKey.objects.bulk_update(changed, ["last_used_at"])
            updated += len(changed)
            for row in rows:
                taken.pop(row.id, None)
            for key_id in batch:  # keys deleted meanwhile: nothing to write
                taken.pop(key_id, None)
    finally:
        _notes.restore(taken)
    return updated
