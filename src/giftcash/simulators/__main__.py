"""``python -m giftcash.simulators issuer|bank|sms|identity [--host] [--port] [--data-dir]``.

The bank sends its virtual-account deposit notifications to ``--notification-url``
(default ``GIFTCASH_SIM_BANK_NOTIFICATION_URL``), signed with the Standard Webhooks secret
in ``GIFTCASH_SIM_BANK_NOTIFICATION_SECRET`` (``whsec_…``; from the environment only, so it
is never on a command line)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from giftcash.simulators.bank import run_bank
from giftcash.simulators.identity import run_identity
from giftcash.simulators.issuer import run_issuer
from giftcash.simulators.sms import run_sms

# The same ports as the defaults of Settings.issuer_url, bank_url and sms_url (identity:
# the port its URL takes by convention; Settings.identity_url has no default).
DEFAULT_PORTS = {"issuer": 8101, "bank": 8102, "sms": 8103, "identity": 8104}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m giftcash.simulators", description="Run one giftcash simulator."
    )
    parser.add_argument("kind", choices=sorted(DEFAULT_PORTS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="default: 8101 | 8102 | 8103 | 8104")
    parser.add_argument("--data-dir", type=Path, default=None, help="default: ./var/sim/KIND")
    parser.add_argument(
        "--settlement-delay-s", type=float, default=0.0, help="bank: seconds until a deposit lands"
    )
    parser.add_argument(
        "--notification-url",
        default=os.environ.get("GIFTCASH_SIM_BANK_NOTIFICATION_URL"),
        help="bank: where deposit notifications go (secret: GIFTCASH_SIM_BANK_NOTIFICATION_SECRET)",
    )
    args = parser.parse_args(argv)
    port = args.port if args.port is not None else DEFAULT_PORTS[args.kind]
    data_dir = args.data_dir or Path("var") / "sim" / args.kind
    if args.kind == "issuer":
        run_issuer(args.host, port, data_dir)
    elif args.kind == "bank":
        secret = os.environ.get("GIFTCASH_SIM_BANK_NOTIFICATION_SECRET", "")
        if args.notification_url and not secret.startswith("whsec_"):
            # unsigned notifications would all be refused by giftcash: say so now
            parser.error(
                "--notification-url needs GIFTCASH_SIM_BANK_NOTIFICATION_SECRET (whsec_...) "
                "in the environment, the same as giftcash's GIFTCASH_BANK_NOTIFICATION_SECRET"
            )
        run_bank(
            args.host,
            port,
            data_dir,
            settlement_delay_s=args.settlement_delay_s,
            notification_url=args.notification_url,
            notification_secret=secret,
        )
    elif args.kind == "identity":
        run_identity(args.host, port, data_dir)
    else:
        run_sms(args.host, port, data_dir)


if __name__ == "__main__":
    main()
