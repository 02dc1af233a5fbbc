"""The payment stops in SQL: which items and payouts an active stop covers.

Every claim that leads to a foreign call (an item's admission and redemption, a payout's
creation and its deposit) adds ``~item_stopped(...)`` or ``~payout_stopped(...)`` to the
statement that picks its rows, so a stop holds what it names from the moment its row is
committed, with no pass of any worker in between; and a stop holds future sales it names
(a new submission to a stopped account) the same way. The stops' own transaction locks
the rows it finds (``repositories_stops.Stops.covered``), so a claim racing it either
took its rows first (the stop records them as in flight) or finds the stop.

The conditions are built once per table they filter (``functools.cache``): a statement
element is immutable, and building its aliases anew on every claim cost the worker more
than running the claim on SQLite.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import and_, exists, or_, select

from giftcash.adapters.db import tables as t

ACTIVE = "active"


def _account_of_item(items: Any, key: Any) -> Any:
    """The item's sale pays to an account whose keyed hash is ``key``."""
    sub, acc = t.submissions.alias("stop_sub"), t.bank_accounts.alias("stop_acc")
    return exists(
        select(sub.c.id)
        .join(acc, acc.c.id == sub.c.bank_account_id)
        .where(sub.c.id == items.c.submission_id, acc.c.account_number_hmac == key)
    )


@functools.cache
def item_stopped(items: Any) -> Any:
    """True for an item (a row of ``items``) that an active stop covers."""
    s = t.payment_stops.alias("stop")
    return exists(
        select(s.c.id).where(
            s.c.state == ACTIVE,
            or_(
                and_(s.c.scope == "customer", s.c.customer_id == items.c.customer_id),
                and_(s.c.scope == "code", s.c.subject_hmac == items.c.code_hmac),
                and_(s.c.scope == "account", _account_of_item(items, s.c.subject_hmac)),
            ),
        )
    )


@functools.cache
def payout_stopped(payouts: Any) -> Any:
    """True for a payout (a row of ``payouts``) that an active stop covers: its customer,
    its account, or a code of one of its items."""
    s = t.payment_stops.alias("stop")
    acc, it = t.bank_accounts.alias("stop_acc"), t.items.alias("stop_item")
    account = exists(
        select(acc.c.id).where(
            acc.c.id == payouts.c.bank_account_id,
            acc.c.account_number_hmac == s.c.subject_hmac,
        )
    )
    code = exists(
        select(it.c.id).where(it.c.payout_id == payouts.c.id, it.c.code_hmac == s.c.subject_hmac)
    )
    return exists(
        select(s.c.id).where(
            s.c.state == ACTIVE,
            or_(
                and_(s.c.scope == "customer", s.c.customer_id == payouts.c.customer_id),
                and_(s.c.scope == "account", account),
                and_(s.c.scope == "code", code),
            ),
        )
    )


def items_of_stop(scope: str, customer_id: str | None, key: str | None) -> Any:
    """The condition on ``items`` for the items one stop names (each by an index: the
    customer's, the code hash's, or the sales to the accounts with that hash)."""
    i = t.items.c
    if scope == "customer":
        return i.customer_id == customer_id
    if scope == "code":
        return i.code_hmac == key
    s, a = t.submissions.c, t.bank_accounts.c
    sales = (
        select(s.id)
        .join(t.bank_accounts, a.id == s.bank_account_id)
        .where(a.account_number_hmac == key)
    )
    return i.submission_id.in_(sales)
