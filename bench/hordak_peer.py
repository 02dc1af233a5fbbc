"""The peer row: django-hordak posting the same redemption (3 legs) one per commit.

Run with the throwaway venv's Python (``bench/.venv-hordak/bin/python``), never with the
project's: it imports Django and hordak, which giftcash does not depend on. Prints one
JSON line ``{"rate_per_s": ..., "n": ..., "rounds": [...]}``.

    bench/.venv-hordak/bin/python bench/hordak_peer.py --dbname NAME --n 500 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import time


def setup(dbname: str, host: str, port: int, user: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        USE_TZ=True,
        SECRET_KEY="bench-only",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "mptt",
            "djmoney",
            "hordak",
        ],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": dbname,
                "HOST": host,
                "PORT": port,
                "USER": user,
                "CONN_MAX_AGE": None,
            }
        },
        CURRENCIES=["KRW"],
        HORDAK_CURRENCIES=["KRW"],
        DEFAULT_CURRENCY="KRW",
        HORDAK_INTERNAL_CURRENCY="KRW",
        HORDAK_DECIMAL_PLACES=0,
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def run(n: int, rounds: int) -> dict:
    from django.db import transaction
    from hordak.models import Account, Leg, Transaction
    from moneyed import Money

    issuer = Account.objects.create(name="issuer", type="AS", currencies=["KRW"])
    margin = Account.objects.create(name="margin", type="IN", currencies=["KRW"])
    customers = [
        Account.objects.create(name=f"customer {i}", type="LI", currencies=["KRW"])
        for i in range(50)
    ]
    face, payout = Money(10_000, "KRW"), Money(9_000, "KRW")
    fee = Money(1_000, "KRW")
    rates = []
    k = 0
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            customer = customers[k % len(customers)]
            k += 1
            with transaction.atomic():
                tx = Transaction.objects.create(description="redemption")
                Leg.objects.create(transaction=tx, account=issuer, debit=face)
                Leg.objects.create(transaction=tx, account=customer, credit=payout)
                Leg.objects.create(transaction=tx, account=margin, credit=fee)
        rates.append(n / (time.perf_counter() - start))
    # The books must balance, or the figure means nothing.
    assert Transaction.objects.count() == n * rounds
    expected = Money(10_000 * n * rounds, "KRW")
    assert issuer.get_balance()["KRW"] == expected, issuer.get_balance()
    return {"rate_per_s": max(rates), "n": n, "rounds": rates}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dbname", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    setup(args.dbname, args.host, args.port, args.user)
    print(json.dumps(run(args.n, args.rounds)))


if __name__ == "__main__":
    main()
