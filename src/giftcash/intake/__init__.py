"""Intake: a customer's submission of codes (``submissions``), the policy applied to it
(``screening``, also used before redemption) and prices (``quoting``).

Storage: ``adapters/db/repositories_submissions.py``, ``repositories_items.py`` (items and
the code registry's sightings), behind the Protocols in ``service/ports/repositories.py``."""
