"""Test-only code (the suite's throwaway PostgreSQL and Redis servers, ``make test``'s runner, the
fast password hasher of PORTA_ENV=test): used by tests/, bench/ and CI, never shipped in the wheel."""
