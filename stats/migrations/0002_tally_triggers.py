"""The triggers that keep the tallies (PostgreSQL only; SQLite counts directly, see
``stats.selectors``), and the tallies of the rows that exist when they are installed.

Each trigger fires once per statement with the statement's transition tables, so a COPY of a
million users or a bulk status change appends a handful of aggregated delta rows, not a million.
An UPDATE's rows count -1 as they were and +1 as they are, so only rows whose watched columns
changed leave a trace. The audit log is append-only: its
trigger counts logins as they are recorded, and the retention cleanup does not uncount them.

The SQL is spelled out here (not imported from the app) so that this migration keeps meaning
what it meant when it ran.
"""

from __future__ import annotations

from django.db import migrations

ALL = "'00000000-0000-0000-0000-000000000000'::uuid"
NO_BUCKET = "'1970-01-01T00:00:00Z'::timestamptz"


def hour(column: str) -> str:
    return f"date_trunc('hour', r.{column}, 'UTC')"


# table: (watched columns, organization column or None, [(metric, label, bucket)], row filter)
SOURCES = {
    "users": (
        "organizations_user",
        ["organization_id", "status", "created_at", "last_login"],
        "organization_id",
        [
            ("'users'", "r.status", NO_BUCKET),
            ("'users.created'", "''", hour("created_at")),
            ("'users.lastLogin'", "''", hour("last_login")),
        ],
        None,
    ),
    "organizations": (
        "organizations_organization",
        ["status"],
        None,
        [("'organizations'", "r.status", NO_BUCKET)],
        None,
    ),
    "applications": (
        "applications_application",
        ["status"],
        None,
        [("'applications'", "r.status", NO_BUCKET)],
        None,
    ),
    "clients": (
        "applications_client",
        ["organization_id", "status"],
        "organization_id",
        [("'clients'", "r.status", NO_BUCKET)],
        None,
    ),
    "logins": (
        "audit_auditentry",
        ["organization_id", "event_type", "created_at"],
        "organization_id",
        [
            (
                "CASE r.event_type WHEN 'user.login' THEN 'logins.succeeded' ELSE 'logins.failed' END",
                "''",
                hour("created_at"),
            )
        ],
        "event_type IN ('user.login', 'user.login.failed')",
    ),
}


#: Watched columns that are tallied by the hour: rows are grouped by their hour before the
#: expansion into metrics and scopes, so a COPY of a million users created within minutes is a
#: handful of groups, not six million rows.
TIMESTAMPS = frozenset({"created_at", "last_login"})


def tally_select(
    rows: str, columns: list[str], organization: str | None, metrics: list[tuple[str, str, str]]
) -> str:
    """The delta rows of ``rows`` (a query of the watched columns plus ``d``, +1 or -1), for the
    row's organization and for all organizations, grouped, with what cancels out left out."""
    keys = ", ".join(f"date_trunc('hour', {c}, 'UTC') AS {c}" if c in TIMESTAMPS else c for c in columns)
    positions = ", ".join(str(i + 1) for i in range(len(columns)))
    grouped = f"SELECT {keys}, sum(d) AS d FROM ({rows}) r0 GROUP BY {positions}"
    scopes = f"(VALUES (r.{organization}), ({ALL})) s(org)" if organization else f"(VALUES ({ALL})) s(org)"
    values = ", ".join(f"({m}, {label}, {bucket})" for m, label, bucket in metrics)
    return f"""
        INSERT INTO stats_tallydelta (organization_id, metric, label, bucket, n)
        SELECT s.org, m.metric, m.label, m.bucket, sum(r.d)
        FROM ({grouped}) r
        CROSS JOIN LATERAL {scopes}
        CROSS JOIN LATERAL (VALUES {values}) m(metric, label, bucket)
        WHERE s.org IS NOT NULL AND m.bucket IS NOT NULL
        GROUP BY 1, 2, 3, 4
        HAVING sum(r.d) <> 0"""


def install_sql(name: str) -> list[str]:
    table, columns, organization, metrics, where = SOURCES[name]
    cols = ", ".join(columns)
    filt = f" WHERE {where}" if where else ""
    inserted = f"SELECT {cols}, 1 AS d FROM new_rows{filt}"
    deleted = f"SELECT {cols}, -1 AS d FROM old_rows{filt}"
    # Every row of the statement, before (-1) and after (+1): the grouping below cancels the
    # rows whose watched columns did not change, without joining the two tables.
    changed = f"SELECT {cols}, 1 AS d FROM new_rows UNION ALL SELECT {cols}, -1 AS d FROM old_rows"
    events = [("insert", "INSERT", "NEW TABLE AS new_rows", inserted)]
    if name != "logins":  # the audit log is append-only (see the module docstring)
        events += [
            ("update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", changed),
            ("delete", "DELETE", "OLD TABLE AS old_rows", deleted),
        ]
    statements = []
    for suffix, event, referencing, rows in events:
        function = f"stats_tally_{name}_{suffix}"
        statements += [
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN {tally_select(rows, columns, organization, metrics)};
                RETURN NULL;
            END $body$""",
            f"""CREATE TRIGGER {function} AFTER {event} ON {table} REFERENCING {referencing}
            FOR EACH STATEMENT EXECUTE FUNCTION {function}()""",
        ]
    return statements


def backfill_sql(name: str) -> str:
    """The tallies of the rows already there (into Tally directly), as if each had been inserted.
    Logins older than 32 days are never read, so they are not counted."""
    table, columns, organization, metrics, where = SOURCES[name]
    conditions = [where] if where else []
    if name == "logins":
        conditions.append("created_at >= now() - interval '32 days'")
    filt = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    select = tally_select(
        f"SELECT {', '.join(columns)}, 1 AS d FROM {table}{filt}", columns, organization, metrics
    )
    return select.replace("stats_tallydelta", "stats_tally")


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    tables = ", ".join(source[0] for source in SOURCES.values())
    # No write may slip between the backfill's reading and the triggers' taking over.
    schema_editor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
    for name in SOURCES:
        for statement in install_sql(name):
            schema_editor.execute(statement)
        schema_editor.execute(backfill_sql(name))


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, *_rest) in SOURCES.items():
        for suffix in ("insert", "update", "delete"):
            function = f"stats_tally_{name}_{suffix}"
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {function} ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")
    schema_editor.execute("DELETE FROM stats_tally")
    schema_editor.execute("DELETE FROM stats_tallydelta")


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0001_initial"),
        ("organizations", "0005_expire_unkeyed_invitation_tokens"),
        ("applications", "0004_claimdefinition_claimvalue_and_more"),
        ("audit", "0001_initial"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
