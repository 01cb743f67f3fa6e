"""The bytes of an export, produced as a stream: constant memory whatever the row count.

On PostgreSQL the database renders the rows itself: ``COPY (SELECT …) TO STDOUT`` with every value
already formatted in SQL (``columns.Column.csv_sql``/``json_sql``), so Python only moves bytes.

* CSV: ``FORMAT csv`` quotes exactly as RFC 4180 asks (a cell holding a comma, a double quote, CR
  or LF is enclosed in double quotes, a double quote doubled; NULL is an empty cell, an empty
  string ``""``). PostgreSQL ends each record with LF; RFC 4180 with CRLF, so the LF that ends each
  record (psycopg hands over one record per read) becomes CRLF. Line breaks inside quoted cells
  stay as stored.
* JSON: each row is one ``row_to_json(…)``. It comes out through ``FORMAT csv`` with the
  delimiter and quote set to the control characters U+0002 and U+0001: PostgreSQL's JSON escapes
  every control character (``\\u0001``), so no row contains either, nor CR or LF, and each row
  arrives exactly as PostgreSQL wrote it, with no escaping to undo.

Elsewhere (SQLite, the embedded default) the rows are read in chunks through the ORM and rendered
in Python with the same rules.

A COPY is one statement, so the export is one consistent snapshot, and a client that goes away
mid-stream cancels it (psycopg cancels the COPY when the generator is closed).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import orjson
import psycopg
from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from psycopg import pq

from exports.columns import ExportSpec
from porta.api.serializers import iso_ms

#: Bytes gathered before a chunk is handed to the server: big enough that per-chunk costs vanish,
#: small enough to keep memory flat.
CHUNK_BYTES = 256 * 1024
#: ``?format=`` → the response's content type and the file's extension.
FORMATS = {"csv": ("text/csv; charset=utf-8", "csv"), "json": ("application/json", "json")}
#: Rows per ORM fetch on the fallback path.
FALLBACK_FETCH = 2000

_JSON_THROUGH_CSV = "(FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"


class Tally:
    """Counts the rows of an export as they pass."""

    def __init__(self) -> None:
        self.rows = 0

    def counted(self, items: Iterator[bytes]) -> Iterator[bytes]:
        for item in items:
            self.rows += 1
            yield item


def uses_copy(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def _column_ref(queryset: QuerySet, field: str) -> str:
    quote = connections[queryset.db].ops.quote_name
    model = queryset.model
    return f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(field).column)}"


def select_sql(spec: ExportSpec, queryset: QuerySet, *, json_rows: bool) -> tuple[str, tuple[Any, ...]]:
    """The SELECT of the export's rows, each value rendered by PostgreSQL: the CSV cells, or one
    JSON object per row. ``queryset`` carries the tenancy, the filters and the order."""
    refs = [(column, _column_ref(queryset, column.field)) for column in spec.columns]
    if json_rows:
        # row_to_json over a one-row subselect: compact, in column order, and faster than
        # json_build_object, which looks up the type of each argument again for every row.
        values = ", ".join(f'{column.json_sql(ref)} AS "{column.name}"' for column, ref in refs)
        annotations = {"export_row": RawSQL(f"(SELECT row_to_json(r) FROM (SELECT {values}) AS r)", ())}
    else:
        annotations = {
            f"export_c{i}": RawSQL(column.csv_sql(ref), ()) for i, (column, ref) in enumerate(refs)
        }
    rows = queryset.annotate(**annotations).values_list(*annotations)
    sql, params = rows.query.sql_with_params()
    return sql, tuple(params)


def _copy_batches(
    queryset: QuerySet, sql: str, params: tuple[Any, ...], options: str, tally: Tally
) -> Iterator[list[memoryview]]:
    """The records of ``COPY (sql) TO STDOUT options`` without their final LF, in batches of
    about ``CHUNK_BYTES``.

    libpq hands out one record per call, so this loop is the export's whole per-row cost in
    Python. It takes the records libpq has already received straight from it (non-blocking
    ``PQgetCopyData``) and leaves to psycopg the waits for more data (which keep the GIL free for
    other threads); no record is copied."""
    connection = connections[queryset.db]
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT {options}", params) as copy,
    ):
        buffered = cursor.cursor.connection.pgconn.get_copy_data
        read = copy.read
        batch: list[memoryview] = []
        size = 0
        while True:
            length, record = buffered(1)
            if length == 0:  # nothing received yet: psycopg waits, or sees the COPY end
                record = read()
                length = len(record)
                if not length:
                    break
            elif length < 0:  # the end, already received: libpq holds the COPY's final result
                _collect_final_result(cursor.cursor.connection)
                break
            batch.append(record[:-1])
            size += length
            if size >= CHUNK_BYTES:
                tally.rows += len(batch)
                yield batch
                batch, size = [], 0
        if batch:
            tally.rows += len(batch)
            yield batch


def _collect_final_result(conn: psycopg.Connection) -> None:
    """Read the COPY's final result (an error the server met mid-COPY arrives here), leaving the
    connection ready for the next statement, as psycopg's own reads do."""
    error = None
    while (result := conn.pgconn.get_result()) is not None:
        if result.status != pq.ExecStatus.COMMAND_OK and error is None:
            error = psycopg.errors.error_from_result(result, encoding=conn.info.encoding)
    if error is not None:
        raise error


def _gathered(items: Iterator[bytes], *, separator: bytes = b"") -> Iterator[bytes]:
    """The fallback path's rows, joined into chunks of about ``CHUNK_BYTES``."""
    buffer: list[bytes] = []
    size = 0
    for item in items:
        buffer.append(item)
        size += len(item)
        if size >= CHUNK_BYTES:
            yield separator.join(buffer)
            buffer, size = [], 0
    if buffer:
        yield separator.join(buffer)


# -- CSV -----------------------------------------------------------------------------------------


def _csv_cell(text: str | None) -> str:
    """RFC 4180 quoting exactly as PostgreSQL's COPY does it: NULL is an empty cell, an empty
    string is ``""``."""
    if text is None:
        return ""
    if text == "" or any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_stream(spec: ExportSpec, queryset: QuerySet, *, tally: Tally | None = None) -> Iterator[bytes]:
    tally = tally or Tally()
    yield (",".join(spec.header) + "\r\n").encode()
    if uses_copy(queryset):
        sql, params = select_sql(spec, queryset, json_rows=False)
        for batch in _copy_batches(queryset, sql, params, "(FORMAT csv)", tally):
            batch.append(b"")  # so that the last record ends with CRLF too
            yield b"\r\n".join(batch)
        return
    rows = queryset.values_list(*(column.field for column in spec.columns)).iterator(
        chunk_size=FALLBACK_FETCH
    )
    lines = (
        (
            ",".join(
                _csv_cell(column.csv_text(value)) for column, value in zip(spec.columns, row, strict=True)
            )
            + "\r\n"
        ).encode()
        for row in rows
    )
    yield from _gathered(tally.counted(lines))


# -- JSON ----------------------------------------------------------------------------------------


def json_stream(
    spec: ExportSpec, queryset: QuerySet, *, exported_at: str, tally: Tally | None = None
) -> Iterator[bytes]:
    """``{"data":[…],"exportedAt":"…","total":N}``: the total comes last, counted on the way."""
    tally = tally or Tally()
    yield b'{"data":['
    if uses_copy(queryset):
        sql, params = select_sql(spec, queryset, json_rows=True)
        chunks = (
            b",".join(batch) for batch in _copy_batches(queryset, sql, params, _JSON_THROUGH_CSV, tally)
        )
    else:
        rows = queryset.values_list(*(column.field for column in spec.columns)).iterator(
            chunk_size=FALLBACK_FETCH
        )
        objects = (
            orjson.dumps(
                {
                    column.name: column.python_value(value)
                    for column, value in zip(spec.columns, row, strict=True)
                }
            )
            for row in rows
        )
        chunks = _gathered(tally.counted(objects), separator=b",")
    for n, chunk in enumerate(chunks):
        yield b"," + chunk if n else chunk
    yield (
        b'],"exportedAt":' + json.dumps(exported_at).encode() + b',"total":' + str(tally.rows).encode() + b"}"
    )


def export_stream(
    spec: ExportSpec,
    queryset: QuerySet,
    export_format: str,
    *,
    now: datetime.datetime,
    tally: Tally | None = None,
) -> Iterator[bytes]:
    """The export in ``export_format`` (a key of ``FORMATS``)."""
    if export_format == "csv":
        return csv_stream(spec, queryset, tally=tally)
    return json_stream(spec, queryset, exported_at=iso_ms(now), tally=tally)


def download_name(spec: ExportSpec, export_format: str, now: datetime.datetime) -> str:
    """``<entity>-export-<YYYY-MM-DDTHH-MM-SS>.<ext>``, as upstream Porta names it."""
    return f"{spec.entity}-export-{now.strftime('%Y-%m-%dT%H-%M-%S')}.{FORMATS[export_format][1]}"


def estimated_rows(queryset: QuerySet) -> int | None:
    """The planner's estimate of the rows ``queryset`` returns (one EXPLAIN, no scan); None
    where the database gives none."""
    if not uses_copy(queryset):
        return None
    sql, params = queryset.values_list("pk").query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str | bytes):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
