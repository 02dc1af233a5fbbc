"""Stand-in issuer, bank, SMS and identity services with the HTTP shape of the real ones, their own
durable storage, fault injection and inspection endpoints (see each module's docstring).

Start one from the shell with ``python -m giftcash.simulators issuer|bank|sms|identity``
(``giftcash.simulators.__main__.main``)."""

from giftcash.simulators.bank import create_bank_app, run_bank
from giftcash.simulators.identity import create_identity_app, run_identity
from giftcash.simulators.issuer import create_issuer_app, run_issuer
from giftcash.simulators.sms import create_sms_app, run_sms

__all__ = [
    "create_bank_app",
    "create_identity_app",
    "create_issuer_app",
    "create_sms_app",
    "run_bank",
    "run_identity",
    "run_issuer",
    "run_sms",
]
