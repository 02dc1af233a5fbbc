"""Webhooks: a customer's endpoints and the delivery of the outbox (``delivery``), and the
outbox's messages made from state events by the use cases that move items and payouts
(``announce``).

Storage: ``adapters/db/repositories_webhooks.py``; signing and sending: ``adapters/webhooks/``."""
