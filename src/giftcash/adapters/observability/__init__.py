"""Observability: Prometheus metrics (``metrics``) and JSON log lines with request ids and
no secrets (``logs``)."""
