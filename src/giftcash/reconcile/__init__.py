"""Reconciliation: the bank's statement and the issuers' settlement reports against our
books (``matching``).

Storage: ``adapters/db/repositories_ops.py`` (``Reconciliation``)."""
