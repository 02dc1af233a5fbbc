"""A 1-won verification deposit is money too: when its answer is lost and the inquiry
fails as well (or the process dies between the deposit and its record), the customer
still sees the code in their bank app and verifies the account. The sweeper must still
book that won, or the bank has moved a won our ledger never saw."""

from __future__ import annotations

import pytest

from giftcash.bootstrap import build_deps, make_engine_from_settings
from giftcash.identity import bank_accounts
from giftcash.selftest.checks import run_checks
from giftcash.selftest.stack import Simulators, make_customer, provision, settings_for
from giftcash.service.ports import Ambiguous, Unavailable


class AnswerLost:
    """The bank does the deposit but the answer is lost, and the first inquiry fails."""

    def __init__(self, bank: object) -> None:
        self.bank = bank
        self.failing_inquiries = 1

    def real_name(self, *args):
        return self.bank.real_name(*args)

    def deposit(self, *args, **kw):
        self.bank.deposit(*args, **kw)
        raise Ambiguous("the answer was lost")

    def transfer_result(self, *args):
        if self.failing_inquiries:
            self.failing_inquiries -= 1
            raise Unavailable("the inquiry failed too")
        return self.bank.transfer_result(*args)


@pytest.mark.slow  # over 2 s on the loaded 2-core machine
def test_a_verified_account_whose_deposit_went_unrecorded_is_booked_by_the_sweeper(tmp_path):
    sims = Simulators(tmp_path)
    db = provision(None, tmp_path)
    settings = settings_for(db, sims, tmp_path / "data")
    engine = make_engine_from_settings(settings)
    deps = build_deps(settings, engine=engine, fast_passwords=True)
    real_bank = deps.bank
    try:
        deps.bank = AnswerLost(real_bank)
        customer = make_customer(deps, sims, 1)
        assert customer is not None  # the memo arrived, the customer verified the account
        deps.bank = real_bank

        bank_accounts.settle_verifications(deps, grace_s=0)

        check = run_checks(
            engine,
            database_url=db.url,
            issuer_url=sims.issuer_url,
            bank_url=sims.bank_url,
            issuer_store=sims.issuer_store,
            account_hmac=lambda bank, number: deps.vault.hmac(f"account:{bank}:{number}"),
        )
        assert check.lost_won == 0, check.notes  # the bank's 1 won is in the books
        assert check.unsettled == 0, check.notes
    finally:
        engine.dispose()
        sims.stop()
