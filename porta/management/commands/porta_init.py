import os
import secrets
import sys
from getpass import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from porta.bootstrap import porta_init


def write_private_file(path: str, text: str) -> None:
    """Create (or replace) ``path`` readable by its owner only, never briefly world-readable."""
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


class Command(BaseCommand):
    help = "Create the super-admin organization, admin roles, porta-cli client, signing key and first admin."

    def add_arguments(self, parser):
        parser.add_argument("--admin-email", default=os.environ.get("PORTA_ADMIN_EMAIL"))
        parser.add_argument("--admin-password", default=os.environ.get("PORTA_ADMIN_PASSWORD"))
        parser.add_argument("--slug", default="porta-admin")
        parser.add_argument(
            "--credentials-file",
            help="Write the admin's e-mail and password here (mode 600) when this run creates the admin",
        )
        parser.add_argument("--no-input", action="store_true", help="Never prompt, even on a terminal")

    def handle(self, *args, admin_email, admin_password, slug, credentials_file, no_input, **options):
        interactive = sys.stdin.isatty() and not no_input
        if not admin_email:
            admin_email = (input("Admin e-mail: ").strip() if interactive else "") or "admin@porta.local"
        try:
            validate_email(admin_email)
        except ValidationError as exc:
            raise CommandError(f"Not an e-mail address: {admin_email}") from exc
        generated = False
        if not admin_password:
            if interactive:
                admin_password = getpass("Admin password (empty to generate one): ")
            if not admin_password:
                admin_password, generated = secrets.token_urlsafe(18), True
        if len(admin_password) < 8:
            raise CommandError("The admin password must have at least 8 characters")
        try:
            report = porta_init(admin_email=admin_email, admin_password=admin_password, slug=slug)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for item in report.created:
            self.stdout.write(f"created {item}")
        if not report.created:
            self.stdout.write("Porta is already initialized; nothing to do.")
        if report.admin_created:
            self.stdout.write(self.style.SUCCESS(f"Admin: {admin_email}"))
            if generated:
                self.stdout.write(self.style.SUCCESS(f"Password: {admin_password}"))
            if credentials_file:
                write_private_file(credentials_file, f"{admin_email}\n{admin_password}\n")
