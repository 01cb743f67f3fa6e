"""The ``porta`` console script: ``porta serve``, ``porta porta_init``, ``porta migrate``… — every
management command, without having to find manage.py."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "porta.settings")
    from django.core.management import execute_from_command_line

    from porta.core.config import load_settings_or_exit

    load_settings_or_exit(argv=sys.argv)
    execute_from_command_line(["porta", *sys.argv[1:]])
