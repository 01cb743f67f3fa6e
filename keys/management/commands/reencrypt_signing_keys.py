"""``manage.py reencrypt_signing_keys [--dry-run]``: rewrap private keys under the first KEK."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from keys import services
from porta.core.context import Actor

ACTOR = Actor.system("manage.py reencrypt_signing_keys")


class Command(BaseCommand):
    help = (
        "Re-encrypt every signing key's private key under the first key of PORTA_KEY_ENCRYPTION_KEY, "
        "so the keys listed after it can be removed. Idempotent; all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every key can be decrypted; change nothing"
        )

    def handle(self, *args, dry_run: bool, **options):
        try:
            result = services.signing_keys_reencrypt(actor=ACTOR, dry_run=dry_run)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        verb = "Would rewrap" if dry_run else "Rewrapped"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {len(result.rewrapped)} key(s) under KEK {result.kek_id}; "
                f"{result.current} already under it"
            )
        )
        for kid in result.rewrapped:
            self.stdout.write(f"  {kid}")
