"""The audit log, append-only and hash-chained (``log``), an operator's change audited
with its outcome (``changes``), and the log read a page at a time (``pages``).

Storage: ``adapters/db/repositories_audit.py``."""
