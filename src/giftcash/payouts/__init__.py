"""Payouts: what a customer is paid and how (``reads``, ``receipts``), and the operators'
inquiry and retry (``operations``).

Storage: ``adapters/db/repositories_items.py`` (``Payouts``)."""
