"""Payment stops (지급정지) and the tracing of fraud proceeds: filing a stop (``filing``),
the worker's pass that records what a stop covers (``holds``), release and settlement
(``filing``), and the tracing export (``tracing``). The rules are ``domain/stops.py``;
the claims of the worker honour active stops in their own queries (adapters/db/
stop_filters.py), so nothing a stop names is redeemed or paid after its commit."""
