"""Payouts: made, sent and checked by the worker (``sending``), read by customers and
operators (``reads``, ``receipts``), asked about and retried by operators
(``operations``).

Storage: ``adapters/db/repositories_payouts.py``; the bank: ``adapters/banks/`` (the
open-banking client and the ``bank_tran_id`` format)."""
