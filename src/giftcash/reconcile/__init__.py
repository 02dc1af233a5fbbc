"""Reconciliation: the bank's statement and the issuers' settlement reports against our
books (``matching``), over the lines of ``lines``. The files' formats are the adapters'
(``adapters/banks/statements.py``, ``adapters/issuers/settlements.py``).

Storage: ``adapters/db/repositories_reconcile.py``."""
