"""What the exchange buys and under which rules: the live catalogue (``live``: the code's
brands and rules with the operators' overrides, read for every quote and submission) and
the operators' changes to it (``overrides``).

Storage: ``adapters/db/repositories_catalogue.py``."""
