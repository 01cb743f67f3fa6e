from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Real argon2id at a test-suite cost; only ever installed when PORTA_ENV=test."""

    time_cost = 1
    memory_cost = 1024
    parallelism = 1
