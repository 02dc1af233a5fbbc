"""Reports for the people who run the exchange: volume, margin and exposure (``volume``),
the console's dashboard (``dashboard``).

Storage: ``adapters/db/repositories_ops.py`` (``Figures``)."""
