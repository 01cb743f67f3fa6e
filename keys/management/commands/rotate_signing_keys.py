"""``manage.py rotate_signing_keys [--dry-run] [--if-older-than 30d]``: the API's rotation, for cron."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from keys import services
from porta.core.context import Actor
from porta.core.durations import parse_duration

ACTOR = Actor.system("manage.py rotate_signing_keys")


def _age(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    return f"{days}d{rest // 3600}h"


class Command(BaseCommand):
    help = (
        "Rotate signing keys: promote the waiting 'next' key (or generate one) to active, retire the "
        "previously active keys, and publish a fresh 'next' key. Same service as POST /api/admin/keys/rotate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print what would change; change nothing")
        parser.add_argument(
            "--if-older-than",
            metavar="DURATION",
            help="Only rotate when the active key has been signing at least this long (e.g. 30d, 720h)",
        )

    def handle(self, *args, dry_run: bool, if_older_than: str | None, **options):
        older_than = None
        if if_older_than is not None:
            try:
                older_than = parse_duration(if_older_than)
            except ValueError as exc:
                raise CommandError(f"--if-older-than: {exc}") from exc
        if older_than is not None and not services.signing_key_rotation_due(older_than):
            age = _age(services.active_key_age().total_seconds())
            self.stdout.write(f"Active key is {age} old (< {if_older_than}): nothing to do")
            return
        if dry_run:
            self._print_plan(services.signing_key_rotation_plan())
            return
        if older_than is not None:
            result = services.signing_key_rotate_if_due(actor=ACTOR, older_than=older_than)
            if result is None:  # another rotation got there first
                self.stdout.write("Active key was rotated meanwhile: nothing to do")
                return
        else:
            result = services.signing_key_rotate(actor=ACTOR)
        origin = "promoted from next" if result.promoted else "generated"
        self.stdout.write(self.style.SUCCESS(f"Active key: {result.active.kid} ({origin})"))
        for key in result.retired:
            self.stdout.write(f"Retired: {key.kid} (in JWKS until {key.published_until.isoformat()})")
        if result.next_key is not None:
            self.stdout.write(f"Next key published: {result.next_key.kid}")

    def _print_plan(self, plan: services.RotationPlan) -> None:
        self.stdout.write("Dry run: nothing changed.")
        if plan.promote is not None:
            self.stdout.write(f"Would promote next key {plan.promote.kid} to active")
        else:
            self.stdout.write("Would generate a new active key")
        for key in plan.retire:
            self.stdout.write(f"Would retire {key.kid}")
        if plan.generate_next:
            self.stdout.write("Would publish a new next key")
