"""Payouts: made, sent and checked by the worker (``sending``), read by customers
(``reads``, ``receipts``), asked about and retried by operators (``operations``).

Storage: ``adapters/db/repositories_items.py`` (``Payouts``)."""
