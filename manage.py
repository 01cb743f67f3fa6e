#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "porta.settings")
    from django.core.management import execute_from_command_line

    from porta.core.config import load_settings_or_exit

    load_settings_or_exit(argv=sys.argv)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
