"""``createsuperuser``, as a Django user tries first: a super-admin made by the service behind
``porta_init`` (a user of the super-admin organization holding porta-super-admin, audited), not
Django's ``UserManager.create_superuser``, which Porta's users (one e-mail per organization,
permissions from roles) cannot have.

It takes the options and variables of Django's command: ``--email`` (or ``DJANGO_SUPERUSER_EMAIL``)
and, with ``--noinput``, the password from ``DJANGO_SUPERUSER_PASSWORD``. It overrides Django's
command because ``porta`` comes before ``django.contrib.auth`` in ``INSTALLED_APPS``.
"""

import os
import sys
from getpass import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from porta.bootstrap import super_admin_create

MIN_PASSWORD_LENGTH = 8  # as porta_init


class Command(BaseCommand):
    help = "Create a super-admin (porta-super-admin of the super-admin organization), as porta_init does."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=os.environ.get("DJANGO_SUPERUSER_EMAIL"))
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Never prompt: the e-mail from --email or DJANGO_SUPERUSER_EMAIL, the password from "
            "DJANGO_SUPERUSER_PASSWORD",
        )

    def handle(self, *args, email, interactive, **options):
        if interactive and not sys.stdin.isatty():
            raise CommandError(
                "Not running in a terminal: use --noinput with --email and DJANGO_SUPERUSER_PASSWORD"
            )
        if interactive:
            email, password = self._ask(email)
        else:
            password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
            if not email or not password:
                raise CommandError(
                    "--noinput needs --email (or DJANGO_SUPERUSER_EMAIL) and DJANGO_SUPERUSER_PASSWORD"
                )
        problem = _email_problem(email) or _password_problem(password)
        if problem:
            raise CommandError(problem)
        try:
            report = super_admin_create(email=email, password=password)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for item in report.created:
            self.stdout.write(f"created {item}")
        self.stdout.write(self.style.SUCCESS(f"Super-admin created: {email}"))

    def _ask(self, email: str | None) -> tuple[str, str]:
        while not email or _email_problem(email):
            if email:
                self.stderr.write(f"Error: {_email_problem(email)}")
            email = input("E-mail: ").strip()
        while True:
            password = getpass()
            if password != getpass("Password (again): "):
                self.stderr.write("Error: Your passwords didn't match.")
            elif _password_problem(password):
                self.stderr.write(f"Error: {_password_problem(password)}")
            else:
                return email, password


def _email_problem(email: str) -> str | None:
    try:
        validate_email(email)
    except ValidationError:
        return f"Not an e-mail address: {email}"
    return None


def _password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must have at least {MIN_PASSWORD_LENGTH} characters"
    return None
