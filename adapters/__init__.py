"""Framework adapters, each opt-in: ``cyclr.adapters.torch``, ``cyclr.adapters.keras``,
``cyclr.adapters.optax``. Importing this package imports no framework."""
