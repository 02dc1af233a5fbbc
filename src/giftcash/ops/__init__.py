"""Running the exchange: readiness, the pipeline's state and the workers' heartbeats
(``health``), master key rotation (``keys``), one item as support looks at it
(``support``).

Storage: ``adapters/db/repositories_ops.py`` (``Figures``, ``Workers``, ``Support``),
``repositories_keys.py``."""
