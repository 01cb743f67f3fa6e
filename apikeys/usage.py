"""``lastUsedAt`` of admin API keys without a database write per request (porta.core.usage).

A use is noted at most once per key per process every ``PORTA_API_KEY_LAST_USED_RESOLUTION``
seconds; ``apikeys.tasks.flush_api_key_last_used`` (Celery beat, every minute) moves the notes
to the database.
"""

from __future__ import annotations

from django.conf import settings

from porta.core.usage import UsageNotes

PENDING_KEY = "porta:apikeys:last_used"

_notes = UsageNotes(PENDING_KEY, resolution=lambda: settings.PORTA_API_KEY_LAST_USED_RESOLUTION)

forget = _notes.forget
note_use = _notes.note_use
pending = _notes.pending
take_pending = _notes.take_pending
