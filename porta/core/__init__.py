"""The core: building blocks every layer may use (ids, db helpers, secrets, slugs, durations, cache
stamps, Redis, rate limits, metrics, configuration, the domain exceptions). It imports no app."""
