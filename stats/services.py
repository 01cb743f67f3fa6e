"""Folding the tallies' deltas (the only write of the stats app; not audited: it changes no
business data, only how the counts are stored)."""

from __future__ import annotations

from django.db import connection, transaction

from stats.models import NO_BUCKET

#: pg_advisory lock key of the fold ("stat" in ASCII): one fold at a time, others skip.
_FOLD_LOCK = 0x73746174
#: Hours older than this are never read (the widest window is 30 days and one hour).
PRUNE_AFTER_DAYS = 32

_FOLD_SQL = """
    WITH folded AS (
        DELETE FROM stats_tallydelta RETURNING organization_id, metric, label, bucket, n
    ), merged AS (
        INSERT INTO stats_tally (organization_id, metric, label, bucket, n)
        SELECT organization_id, metric, label, bucket, sum(n) FROM folded GROUP BY 1, 2, 3, 4
        ON CONFLICT (organization_id, metric, label, bucket) DO UPDATE SET n = stats_tally.n + excluded.n
    )
    SELECT count(*) FROM folded
"""
_PRUNE_SQL = """
    DELETE FROM stats_tally
    WHERE n = 0 OR (bucket <> %(none)s AND bucket < now() - make_interval(days => %(days)s))
"""


def tallies_compact() -> int:
    """Fold the deltas the triggers appended into the tallies, and drop tallies that are zero or
    older than any window. Returns the number of delta rows folded (0 on databases without the
    tallies, or when another fold is running: the next one takes these deltas)."""
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_FOLD_LOCK])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(_FOLD_SQL)
        folded = cursor.fetchone()[0]
        cursor.execute(_PRUNE_SQL, {"none": NO_BUCKET, "days": PRUNE_AFTER_DAYS})
    return folded
