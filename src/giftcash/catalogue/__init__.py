"""What the exchange buys and under which rules: the live catalogue (``live``: the code's
brands and rules with the operators' overrides) and the operators' changes to it
(``settings``).

Storage: ``adapters/db/repositories_admin.py`` (``OperatorOverrides``)."""
