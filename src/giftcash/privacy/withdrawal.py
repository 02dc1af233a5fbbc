"""The customer's withdrawal (탈퇴): refused while sales or payouts are open (they finish
first: nothing owed is dropped) or while an active payment stop covers the customer (the
investigation needs them until it is released or settled), after the password is typed
again.

A withdrawn customer cannot sign in (``AccountClosed``) and every session ends at once.
The person's data is kept ``personal_keep_days`` (a year: investigators' requests, as
컬쳐랜드 and 북앤라이프 do), then the purge pseudonymises the account; until then the phone
stays with the withdrawn account, and only then can it sign up again, as a new customer
(``domain/retention.rejoin_possible_on``). The transaction records stay five years.
"""

from __future__ import annotations

from datetime import date, timedelta

from giftcash.audit import log as audit
from giftcash.domain import retention
from giftcash.service import errors
from giftcash.service.deps import Deps

WITHDRAW_ACTION = "customer.withdraw"
BAD_LOGIN = "bad_login"  # identity/customers.py's kind: one count of wrong passwords

REFUSALS = {
    "open_sales": "sales are still open: they finish first, then you can withdraw",
    "payouts_in_flight": "payouts are still on their way: they arrive first, then you can withdraw",
    "money_owed": "money is still owed (a sale waits for our staff): contact support first",
    "payment_stop": "a payment stop covers your account: call the one who asked for it or support",
}


def withdraw(deps: Deps, customer_id: str, password: str) -> date:
    """Withdraw the customer; answers the first day the phone can sign up again."""
    now = deps.clock.now()
    with deps.uow() as uow:
        customer = uow.customers.get(customer_id)
        if customer is None or customer.status != retention.Stage.ACTIVE.value:
            raise errors.Unauthorized("unknown customer")
        # a stolen session must not guess the password here without bound: the sign-in's
        # own limit of failures per customer in its window
        since = now - timedelta(seconds=deps.limits.failure_window_s)
        failed = uow.failures.count(since=since, customer_id=customer_id, kinds=(BAD_LOGIN,))
        if failed >= deps.limits.login_max_failures:
            minutes = deps.limits.failure_window_s // 60
            raise errors.TooManyAttempts(
                f"too many wrong passwords; try again in {minutes} minutes", field="password"
            )
        if not deps.passwords.verify(customer.password_hash, password):
            uow.failures.add(BAD_LOGIN, now, customer_id=customer_id)
            uow.commit()
            raise errors.InvalidCredentials("the password is wrong", field="password")
        items, payouts, owed = uow.retention.open_work(customer_id)
        stops = uow.retention.stops_covering(customer_id)
        refusal = retention.withdrawal_refusal(items, payouts, owed, stops)
        if refusal is not None:
            raise errors.WithdrawalRefused(REFUSALS[refusal], reason=refusal)
        if not uow.retention.withdraw(customer_id, now):
            raise errors.Unauthorized("unknown customer")
        ended = uow.blocks.revoke_customer_tokens(customer_id)
        audit.record(
            uow,
            f"customer:{customer_id}",
            WITHDRAW_ACTION,
            f"customer:{customer_id}",
            {"sessions_ended": ended},
            at=now,
            id=deps.new_id(),
        )
        uow.commit()
    return retention.rejoin_possible_on(now, deps.retention)
