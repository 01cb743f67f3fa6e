"""Which files ``pip install .`` ships; the project's metadata is in pyproject.toml.

Packages are discovered, not listed, so a new Django app (with its migrations and management
commands) can never be left out of the wheel again: everything with an ``__init__.py`` ships except
what only a checkout needs.
"""

from setuptools import find_packages, setup

CHECKOUT_ONLY = ["tests", "tests.*", "testing", "testing.*", "bench", "bench.*", "deploy", "deploy.*"]

setup(
    packages=[*find_packages(exclude=CHECKOUT_ONLY), "porta.templates"],
    # templates/ stays at the top of the checkout (the design card); the wheel carries it inside the
    # porta package, where porta.settings looks for it first.
    package_dir={"porta.templates": "templates"},
    include_package_data=False,  # package_data below says exactly what ships; no MANIFEST.in
    package_data={"": ["templates/**/*", "static/**/*"], "porta.templates": ["**/*"]},
)
