"""``giftcash worker`` with a planted bug (``plants.record_sends_in_two_transactions``),
for the crash harness's planted-bug test: ``python planted_worker.py worker [options]``."""

from __future__ import annotations

import sys

import plants  # this script's folder is on sys.path

from giftcash.payouts import sending

sending.record_sends = plants.record_sends_in_two_transactions

from giftcash.entrypoints.cli import app  # noqa: E402

if __name__ == "__main__":
    app(args=sys.argv[1:], prog_name="giftcash")
