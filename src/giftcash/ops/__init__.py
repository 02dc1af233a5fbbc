"""Running the exchange: readiness and the pipeline's state (``health``), master key
rotation (``keys``).

Storage: ``adapters/db/repositories_ops.py``."""
