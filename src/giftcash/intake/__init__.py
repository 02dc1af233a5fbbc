"""Intake: a customer's submission of codes (``submissions``), the policy applied to it
(``screening``, also used before redemption) and prices (``quoting``).

Storage: ``adapters/db/repositories_items.py`` (submissions, items, the code registry),
behind the Protocols in ``service/ports/repositories.py``."""
