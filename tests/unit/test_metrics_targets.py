"""The ports counted in metrics (adapters/observability/metrics.py)."""


def test_deps_with_a_notification_secret_count_the_virtual_accounts(tmp_path):
    """Building deps with the bank's notification secret wraps the virtual-account port
    for metrics (it raised KeyError before the port had its targets)."""
    from giftcash.adapters.observability.metrics import Instrumented
    from giftcash.bootstrap import build_deps
    from giftcash.config import Settings

    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path}/g.db",
        bank_notification_secret="whsec_" + "A" * 32,
    )
    deps = build_deps(settings, fast_passwords=True)
    assert isinstance(deps.virtual_accounts, Instrumented)
