"""The audit log, append-only and hash-chained (``log``).

Storage: ``adapters/db/repositories_admin.py`` (``AuditLog``)."""
