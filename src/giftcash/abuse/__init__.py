"""Abuse bounds on the foreign calls that cost money or trust (``bounds``); what they count
and how far is data in ``service/bound_limits.py``, which the settings name.

Storage: ``adapters/db/repositories_bounds.py``."""
