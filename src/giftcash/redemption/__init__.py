"""Redemption: the worker's issuer steps (``steps``): admission (the issuer's balance
inquiry, then the policy) and capture, each in atomic phases keyed by the item's
``redeem_key``. What is redeemed is paid by ``payouts/sending.py``.

Storage: ``adapters/db/repositories_items.py``; the issuers: ``adapters/issuers/``."""
