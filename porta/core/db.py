"""Model building blocks shared by the domain apps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb


class TimestampedModel(models.Model):
    """``created_at``/``updated_at`` from one clock reading: equal on create, bumped on save.

    (Django's auto_now_add and auto_now read the clock twice, so a new row's timestamps differ.)
    """

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding:
            self.updated_at = self.created_at
        else:
            self.updated_at = timezone.now()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and "updated_at" not in update_fields:
                kwargs["update_fields"] = [*update_fields, "updated_at"]
        super().save(*args, **kwargs)


def copy_supported() -> bool:
    """Whether the default database takes ``COPY … FROM STDIN`` (PostgreSQL; not SQLite)."""
    return connection.vendor == "postgresql"


def copy_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write ``rows`` (values in ``columns`` order, as psycopg adapts them: a JSON column takes
    :func:`json_value`) into ``model``'s table with one ``COPY``, in the current transaction.

    A bulk import's rows go in at the speed of the server, a few times faster than a multi-row
    INSERT that Django compiles. Database errors arrive as Django's (``IntegrityError`` for a
    unique violation), as from any query."""
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN"
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def json_value(value: Any) -> Any:
    """A JSON column's value as :func:`copy_rows` writes it (``None`` stays SQL NULL)."""
    return None if value is None else Jsonb(value, dumps=orjson.dumps)
