"""Benchmark of permission resolution (rbac.selectors.resolve): one user holding 20 roles that
together grant 500 permissions of one application, cold (cache emptied before every call, so a
Redis stamp read plus the database query), cached (the stamp read only) and cached with the stamp
the request already read (a dict lookup), per call.

One run: throwaway PostgreSQL and Redis, migrations in-process, an ORM seed, then timed calls.
Every server it starts is stopped on the way out.

    .venv/bin/python bench/rbac.py

Raw output goes to bench/results/rbac-<UTC timestamp>/.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
import secrets
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Run as a script, Python puts bench/ on the path, not the repository root that holds porta/.
sys.path.insert(0, str(REPO))

from bench.common import argument_parser, median_p95, stop_cleanly_on_signals, timed_us  # noqa: E402
from testing.servers import postgres, redis  # noqa: E402

REPRODUCE = ".venv/bin/python bench/rbac.py"


def _summary(samples: list[float]) -> str:
    median, p95 = median_p95(samples)
    return f"median {median:8.1f} µs   p95 {p95:8.1f} µs"


def main() -> int:
    stop_cleanly_on_signals()
    parser = argument_parser(__doc__)
    parser.add_argument("--roles", type=int, default=20)
    parser.add_argument("--permissions", type=int, default=500)
    parser.add_argument("--calls", type=int, default=1000, help="timed calls per mode")
    args = parser.parse_args()

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPO / "bench" / "results" / f"rbac-{stamp}"
    out.mkdir(parents=True, exist_ok=True)

    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(postgres())
        rd = stack.enter_context(redis())
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="porta-bench-"))
        for name in [k for k in os.environ if k.startswith(("PORTA_", "DJANGO_"))]:
            del os.environ[name]
        os.environ.update(
            {
                "PORTA_ENV": "development",
                "PORTA_ENV_FILE": os.devnull,
                "PORTA_DATA_DIR": data_dir,
                "DATABASE_URL": pg.url,
                "REDIS_URL": rd.url,
                "PORTA_SECRET_KEY": secrets.token_urlsafe(50),
                "PORTA_KEY_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
                "PORTA_PUBLIC_URL": "http://127.0.0.1:8000",
                "DJANGO_SETTINGS_MODULE": "porta.settings",
            }
        )
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", "--noinput", verbosity=0)

        from applications.models import Application
        from organizations.models import Organization, User
        from porta.core import versions
        from porta.core.invalidation import principals_changed
        from rbac.models import Permission, Role, RolePermission, UserRole
        from rbac.selectors import forget_resolutions, resolve

        org = Organization.objects.create(name="Bench", slug="bench-rbac")
        user = User.objects.create(organization=org, email="bench@example.com")
        app = Application.objects.create(name="Bench", slug="bench-rbac")
        permissions = Permission.objects.bulk_create(
            [
                Permission(application=app, name=f"p{i}", slug=f"resource{i}:read")
                for i in range(args.permissions)
            ]
        )
        roles = Role.objects.bulk_create(
            [Role(application=app, name=f"r{i}", slug=f"role-{i}") for i in range(args.roles)]
        )
        # Each permission is granted by exactly one role: 20 roles × 25 permissions = 500.
        RolePermission.objects.bulk_create(
            [RolePermission(role=roles[i % args.roles], permission=p) for i, p in enumerate(permissions)]
        )
        UserRole.objects.bulk_create([UserRole(user=user, role=role) for role in roles])
        principals_changed()

        resolution = resolve(user.id, app.id)
        assert len(resolution.roles) == args.roles, resolution.roles
        assert len(resolution.permissions) == args.permissions, len(resolution.permissions)

        def cold():
            forget_resolutions()
            resolve(user.id, app.id)

        # warm-up: connection, query plan, interpreter caches
        cold_samples = timed_us(cold, args.calls, warmup=50)
        resolve(user.id, app.id)
        cached_samples = timed_us(lambda: resolve(user.id, app.id), args.calls)
        (stamp,) = versions.read(versions.PRINCIPALS)  # as authentication reads it, once per request
        in_request_samples = timed_us(lambda: resolve(user.id, app.id, stamp=stamp), args.calls)

        lines = [
            f"permission resolution: 1 user, {args.roles} roles, {args.permissions} permissions, "
            f"{args.calls} calls each (PostgreSQL and Redis local)",
            f"cold   (cache emptied, stamp read + query): {_summary(cold_samples)}",
            f"cached (stamp read only):                  {_summary(cached_samples)}",
            f"cached, stamp already read by the request: {_summary(in_request_samples)}",
            f"reproduce: {REPRODUCE} --roles {args.roles} --permissions {args.permissions} "
            f"--calls {args.calls}",
        ]
        report = "\n".join(lines)
        print(report)
        (out / "report.txt").write_text(report + "\n")
        from django.db import connection

        connection.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
