"""Review: the suspicious-activity cases (``cases``).

Storage: ``adapters/db/repositories_cases.py``."""
