"""Banks' hours as the payouts see them (issue 14, item 5): the calendar (every bank's
nightly window from the limits, announced maintenance from the database), which banks
are closed now (the payout claim leaves them alone), when a customer's payout can go,
how much of a payout's time was spent in its bank's windows, and the console's
maintenance windows (audited)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from giftcash.audit import log as audit
from giftcash.domain import bank_hours as bh
from giftcash.domain.banks import BANKS
from giftcash.domain.records import Item, Payout
from giftcash.domain.states import ItemStatus as IS
from giftcash.domain.states import PayoutStatus as PS
from giftcash.service.deps import Deps
from giftcash.service.errors import NotFound
from giftcash.service.ports.uow import UnitOfWork


class MaintenanceNotFound(NotFound):
    code = "maintenance_not_found"


def calendar(uow: UnitOfWork, deps: Deps, since: datetime) -> bh.BankCalendar:
    """The calendar as it stands, with the maintenance windows that end after ``since``."""
    return bh.BankCalendar(
        default=deps.limits.bank_nightly,
        per_bank=deps.limits.bank_nightly_per_bank,
        maintenance=tuple(uow.bank_hours.maintenance(since)),
    )


def closed_now(uow: UnitOfWork, deps: Deps, now: datetime) -> frozenset[str]:
    """The banks that take no transfer at ``now``: the payout claim skips them."""
    return bh.closed_banks(calendar(uow, deps, now), now, BANKS)


def expected_payout(
    deps: Deps, bank_code: str, now: datetime, closed_until: datetime | None = None
) -> datetime | None:
    """When a payout to ``bank_code`` can go, if not now: the reopening of its window, or
    the reopening the bank itself announced (``closed_until``) if that is later."""
    with deps.reader() as uow:
        return opens_at(uow, deps, bank_code, now, closed_until)


def opens_at(
    uow: UnitOfWork,
    deps: Deps,
    bank_code: str,
    now: datetime,
    closed_until: datetime | None = None,
) -> datetime | None:
    """``expected_payout`` in a unit of work the caller already has open."""
    return _opens(calendar(uow, deps, now), bank_code, now, closed_until)


def payout_waits(deps: Deps, payouts: Sequence[Payout]) -> dict[str, datetime]:
    """Payout id -> when it can go, for the payouts not yet sent whose bank is closed now
    (its window, or the closure it announced by refusing): what the customer is told."""
    now = deps.clock.now()
    waiting = [p for p in payouts if p.status in _UNSENT]
    if not waiting:
        return {}
    with deps.reader() as uow:
        cal = calendar(uow, deps, now)
        banks = {p.bank_account_id: _bank_code(uow, p.bank_account_id) for p in waiting}
    out = {}
    for p in waiting:
        opens = _opens(cal, banks[p.bank_account_id], now, p.bank_closed_until)
        if opens is not None:
            out[p.id] = opens
    return out


def sale_wait(deps: Deps, bank_account_id: str, items: Sequence[Item]) -> datetime | None:
    """When a sale's money can go, if it waits for its bank: its items that are redeemed
    or stocked (not yet in a payout) or in a payout not yet sent, while the bank is closed."""
    now = deps.clock.now()
    waiting = [i for i in items if i.status in (IS.REDEEMED, IS.STOCKED, IS.PAYING)]
    if not waiting:
        return None
    with deps.reader() as uow:
        cal = calendar(uow, deps, now)
        bank_code = _bank_code(uow, bank_account_id)
        payouts = [uow.payouts.get(pid) for pid in {i.payout_id for i in waiting if i.payout_id}]
    unsent = [p for p in payouts if p is not None and p.status in _UNSENT]
    if any(i.status == IS.PAYING for i in waiting) and not unsent:
        return None  # the money is on its way: the bank has it
    closed_until = max((p.bank_closed_until for p in unsent if p.bank_closed_until), default=None)
    return _opens(cal, bank_code, now, closed_until)


_UNSENT = frozenset({PS.PENDING, PS.SENDING, PS.UNKNOWN})


def _bank_code(uow: UnitOfWork, bank_account_id: str) -> str:
    account = uow.bank_accounts.get(bank_account_id)
    assert account is not None  # a payout's or a sale's account is never deleted
    return account.bank_code


def _opens(
    cal: bh.BankCalendar, bank_code: str, now: datetime, closed_until: datetime | None
) -> datetime | None:
    opens = bh.reopens_at(cal, bank_code, now)
    if closed_until is not None and closed_until > now:
        opens = max(opens or closed_until, closed_until)
    return opens


def window_seconds(
    uow: UnitOfWork,
    deps: Deps,
    bank_code: str,
    start: datetime,
    end: datetime,
    refused: tuple[datetime, datetime] | None,
) -> int:
    """Whole seconds of [start, end) the bank was closed (its windows and the closure
    it announced by refusing), so the payout time is measured outside them."""
    start = max(start, end - bh.MAX_SPAN)  # a payout parked for more than a year
    cal = calendar(uow, deps, start)
    extra = [refused] if refused is not None else []
    return int(bh.closed_seconds(cal, bank_code, start, end, extra))


# -- the console -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BankHoursRow:
    bank_code: str
    bank_name: str
    nightly: bh.Nightly
    reopens_at: datetime | None  # closed now until then; None: open
    maintenance: tuple[bh.Maintenance, ...]


def overview(deps: Deps) -> list[BankHoursRow]:
    """Every bank: its nightly window, whether it is closed now, its announced maintenance."""
    now = deps.clock.now()
    with deps.reader() as uow:
        cal = calendar(uow, deps, now)
    return [
        BankHoursRow(
            code,
            name,
            cal.nightly(code),
            bh.reopens_at(cal, code, now),
            tuple(cal.maintenance_of(code)),
        )
        for code, name in BANKS.items()
    ]


def add_maintenance(
    deps: Deps, actor: str, bank_code: str, starts_at: datetime, ends_at: datetime, note: str
) -> bh.Maintenance:
    """An announced maintenance window of one bank, audited with the change."""
    if bank_code not in BANKS:
        raise bh.InvalidBankHours("unknown bank code", reason="bank_code")
    bh.check_maintenance(starts_at, ends_at)
    now = deps.clock.now()
    if ends_at <= now:
        raise bh.InvalidBankHours("the maintenance window is already over", reason="ends_at")
    m = bh.Maintenance(deps.new_id(), bank_code, starts_at, ends_at, note.strip()[:200])
    with deps.uow() as uow:
        uow.bank_hours.add_maintenance(m, actor, now)
        audit.record(
            uow,
            actor,
            "bank_hours.maintenance_add",
            f"bank:{bank_code}",
            _detail(m),
            at=now,
            id=deps.new_id(),
        )
        uow.commit()
    return m


def remove_maintenance(deps: Deps, actor: str, maintenance_id: str) -> bh.Maintenance:
    now = deps.clock.now()
    with deps.uow() as uow:
        m = uow.bank_hours.remove_maintenance(maintenance_id)
        if m is None:
            raise MaintenanceNotFound("no such maintenance window")
        audit.record(
            uow,
            actor,
            "bank_hours.maintenance_remove",
            f"bank:{m.bank_code}",
            _detail(m),
            at=now,
            id=deps.new_id(),
        )
        uow.commit()
    return m


def _detail(m: bh.Maintenance) -> dict[str, object]:
    return {
        "id": m.id,
        "starts_at": m.starts_at.isoformat(),
        "ends_at": m.ends_at.isoformat(),
        "note": m.note,
    }
