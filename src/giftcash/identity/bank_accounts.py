"""Own-name bank accounts, proven with a 1-won deposit whose memo carries a code.

The deposit is a foreign money call in atomic phases: the account row with its
``bank_tran_id`` is committed first (the intent), then the bank is called, then the
outcome is committed. An ambiguous answer is settled by the transfer-result inquiry.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from giftcash.abuse import bounds
from giftcash.domain import ledger
from giftcash.domain.banks import mask_account, normalise_account_number, same_holder
from giftcash.domain.records import BankAccount
from giftcash.domain.states import BankAccountStatus as BAS
from giftcash.domain.states import allows, transition
from giftcash.identity import verification
from giftcash.identity.secrets import code_hash, numeric_code, same_hash
from giftcash.payouts import bank_hours
from giftcash.service import errors
from giftcash.service.deps import Deps
from giftcash.service.ports import Ambiguous, Unavailable
from giftcash.service.ports.uow import UnitOfWork

VERIFY_AMOUNT = 1  # won


def memo_for(code: str) -> str:
    return f"GC{code}"


def add_bank_account(
    deps: Deps,
    customer_id: str,
    *,
    bank_code: str,
    account_number: str,
    holder_name: str,
    device_key: str | None = None,
) -> BankAccount:
    """Ask the bank whose the account is, then send it 1 won with a code in the memo.

    Both calls cost money and the deposit lands in a stranger's statement if the number is
    not the customer's, so both are bounded (abuse/bounds.py: per address, customer,
    account number and overall) and checked and recorded before each call; a customer
    holds at most ``bank_accounts_per_customer`` accounts verified or being verified, and
    a number whose verification failed waits ``account_retry_cooldown_s``.
    ``device_key``: the client address."""
    now = deps.clock.now()
    number = normalise_account_number(bank_code, account_number)
    number_key = deps.vault.hmac(f"account:{bank_code}:{number}")
    with deps.reader() as uow:
        customer = uow.customers.get(customer_id)
        assert customer is not None
        # the identity provider's name and birth date where the person was verified
        name, birth_date = verification.verified_name(uow, deps, customer_id) or (
            customer.name,
            customer.birth_date,
        )
        # in its window the bank refuses the 1-won deposit and the account would fail: say
        # so now, before anything is asked, charged or written (payouts/bank_hours.py)
        reopens = bank_hours.opens_at(uow, deps, bank_code, now)
    if not same_holder(holder_name, name):
        raise errors.HolderNameMismatch("payouts go only to an account in your own name")
    if reopens is not None:
        raise errors.BankClosedNow(
            f"the bank is closed for maintenance until {reopens.isoformat()}",
            reopens_at=reopens.isoformat(),
        )
    deposit = bounds.Call(
        bounds.DEPOSIT, address=device_key, person=customer_id, account=number_key
    )
    with deps.uow() as uow:
        _refuse_beyond_cap(uow, deps, customer_id)
        bounds.check(uow, deps, bounds.Call(bounds.ACCOUNT_FAILED, account=number_key), now)
        bounds.charge(
            uow, deps, bounds.Call(bounds.REAL_NAME, address=device_key, person=customer_id), now
        )
        bounds.check(uow, deps, deposit, now)  # refused now, before the inquiry costs
        uow.commit()
    try:
        holder = deps.bank.real_name(bank_code, number, birth_date)
    except Unavailable:
        raise errors.ServiceUnavailable("the bank cannot be reached; try again") from None
    if not holder.found:
        raise errors.BankAccountUnknownAtBank("the bank does not know this account")
    if not same_holder(holder.holder_name or "", name):
        raise errors.HolderNameMismatch("the bank says this account is in another name")

    code = numeric_code(4)
    account_id = deps.new_id()
    tran_id = deps.new_bank_tran_id()
    with deps.uow() as uow:
        bounds.charge(uow, deps, deposit, now)
        _refuse_beyond_cap(uow, deps, customer_id)
        number_enc, key_id = deps.vault.encrypt(number, account_id)
        uow.bank_accounts.add(
            id=account_id,
            customer_id=customer_id,
            bank_code=bank_code,
            account_number_enc=number_enc,
            account_key_id=key_id,
            account_number_hmac=number_key,
            account_number_masked=mask_account(number),
            holder_name=holder.holder_name or holder_name,
            verify_code_hash=code_hash(account_id, code),
            verify_bank_tran_id=tran_id,
            now=now,
        )
        uow.commit()
    send_verification_deposit(
        deps,
        account_id,
        number,
        holder.holder_name or holder_name,
        bank_code,
        tran_id,
        memo_for(code),
    )
    return get_bank_account(deps, customer_id, account_id)


def _refuse_beyond_cap(uow: UnitOfWork, deps: Deps, customer_id: str) -> None:
    """Verified accounts and those still being verified (a code can still be typed)
    count; failed ones and those out of tries do not."""
    cap = deps.bounds.bank_accounts_per_customer
    held = [
        a
        for a in uow.bank_accounts.for_customer(customer_id)
        if a.status == BAS.VERIFIED
        or (a.status == BAS.VERIFYING and a.verify_attempts < deps.limits.account_verify_attempts)
    ]
    if len(held) >= cap:
        raise errors.TooManyBankAccounts(
            f"you can have at most {cap} bank accounts verified or being verified",
            reason="bank_accounts_per_customer",
        )


def _failed(uow: UnitOfWork, deps: Deps, account_id: str, now: datetime) -> None:
    """The account number waits out the cool-down before it is tried again."""
    key = uow.bank_accounts.number_hmac(account_id)
    bounds.record(uow, deps, bounds.Call(bounds.ACCOUNT_FAILED, account=key), now)


def send_verification_deposit(
    deps: Deps, account_id: str, number: str, holder: str, bank_code: str, tran_id: str, memo: str
) -> str:
    """Phase 2 and 3 of the 1-won deposit. Returns done | rejected | unknown."""
    outcome = "unknown"
    try:
        outcome = deps.bank.deposit(tran_id, bank_code, number, holder, VERIFY_AMOUNT, memo).outcome
    except Ambiguous:
        outcome = _resolve(deps, tran_id)
    except Unavailable:
        outcome = "unknown"
    record_verification_outcome(deps, account_id, tran_id, outcome)
    if outcome == "rejected":  # the bank refused the number: not again at once
        with deps.uow() as uow:
            _failed(uow, deps, account_id, deps.clock.now())
            uow.commit()
    return outcome


def _resolve(deps: Deps, tran_id: str) -> str:
    try:
        result = deps.bank.transfer_result(tran_id, VERIFY_AMOUNT, deps.clock.now().date())
    except Unavailable:
        return "unknown"
    if result.outcome in ("done", "pending", "returned"):
        return "done"
    if result.outcome in ("not_found", "rejected"):
        # Nothing moved: the sweeper sends again with the same bank_tran_id.
        return "unknown"
    return "unknown"


def record_verification_outcome(deps: Deps, account_id: str, tran_id: str, outcome: str) -> None:
    now = deps.clock.now()
    with deps.uow() as uow:
        if outcome == "done":
            uow.ledger.post(
                ledger.account_verification(
                    f"verify:{account_id}", amount=VERIFY_AMOUNT, currency="KRW", ref=account_id
                )
            )
        elif outcome == "rejected":
            account = uow.bank_accounts.get(account_id)
            assert account is not None
            status = BAS(account.status)
            if allows(status, BAS.FAILED):  # (failed already: a second report of one refusal)
                uow.bank_accounts.transition(transition(account_id, status, BAS.FAILED), now)
        uow.commit()


def deposit_code(typed: str) -> str:
    """The 1-won memo's code as people type it: ``GC 1234``, ``gc1234``, ``1234``, with
    spaces or a hyphen anywhere (full-width letters and digits read as ASCII)."""
    text = unicodedata.normalize("NFKC", typed)
    return "".join(text.split()).replace("-", "").upper().removeprefix("GC")


def verify_bank_account(deps: Deps, customer_id: str, account_id: str, code: str) -> BankAccount:
    now = deps.clock.now()
    with deps.uow() as uow:
        acct = uow.bank_accounts.get(account_id)
        if acct is None or acct.customer_id != customer_id:
            raise errors.BankAccountNotFound("no such bank account")
        if acct.status == BAS.VERIFIED:
            return acct
        if acct.status != BAS.VERIFYING:
            raise errors.BankAccountNotVerified("this account can no longer be verified")
        if acct.verify_attempts >= deps.limits.account_verify_attempts:
            raise errors.TooManyAttempts("too many wrong codes; add the account again")
        expected = uow.bank_accounts.verify_code_hash(account_id)
        given = deposit_code(code)
        if not same_hash(expected, code_hash(account_id, given)):
            uow.bank_accounts.count_attempt(account_id)
            if acct.verify_attempts + 1 >= deps.limits.account_verify_attempts:
                _failed(uow, deps, account_id, now)
            uow.commit()
            raise errors.InvalidCode("the code is not the one in the deposit's memo")
        verified = transition(account_id, BAS.VERIFYING, BAS.VERIFIED)
        moved = uow.bank_accounts.transition(verified, now)
        assert moved  # read as verifying in this unit of work
        uow.commit()
    return get_bank_account(deps, customer_id, account_id)


def get_bank_account(deps: Deps, customer_id: str, account_id: str) -> BankAccount:
    with deps.reader() as uow:
        acct = uow.bank_accounts.get(account_id)
    if acct is None or acct.customer_id != customer_id:
        raise errors.BankAccountNotFound("no such bank account")
    return acct


def list_bank_accounts(deps: Deps, customer_id: str) -> list[BankAccount]:
    with deps.reader() as uow:
        return uow.bank_accounts.for_customer(customer_id)


def settle_verifications(deps: Deps, limit: int = 50, grace_s: int = 10) -> int:
    """1-won deposits whose outcome was never recorded (a crash, an ambiguous answer) are
    settled by inquiry: done → recorded; never arrived → the account fails and the
    customer adds it again (the memo code is kept only as a hash, so it is not resent)."""
    now = deps.clock.now()
    with deps.reader() as uow:
        rows = uow.bank_accounts.unsettled_verifications(now - timedelta(seconds=grace_s), limit)
    settled = 0
    for r in rows:
        try:
            result = deps.bank.transfer_result(
                r.verify_bank_tran_id, VERIFY_AMOUNT, r.created_at.date()
            )
        except (Ambiguous, Unavailable):
            continue
        if result.outcome in ("done", "pending", "returned"):
            record_verification_outcome(deps, r.id, r.verify_bank_tran_id, "done")
        elif result.outcome in ("not_found", "rejected") and r.status == BAS.VERIFYING:
            # (a verified account's code was read from this deposit: it did arrive)
            record_verification_outcome(deps, r.id, r.verify_bank_tran_id, "rejected")
        else:
            continue
        settled += 1
    return settled
