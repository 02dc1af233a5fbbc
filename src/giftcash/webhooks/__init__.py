"""Webhooks: a customer's endpoints and the delivery of the outbox (``delivery``).

Storage: ``adapters/db/repositories_webhooks.py``; signing and sending: ``adapters/webhooks/``."""
