"""Review: the items the policy sent to a person and the reviewer's decision (``queue``),
and the suspicious-activity cases the detectors open (``cases``).

Storage: ``adapters/db/repositories_review.py``,
``adapters/db/repositories_cases.py``."""
