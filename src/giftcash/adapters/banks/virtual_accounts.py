"""Virtual accounts (가상계좌) at the bank, in the open-banking shape of the bank simulator
(``/v2.0/vaccount/…``: ``rsp_code`` A0000 / A0002 with a ``bank_rsp_code``, amounts as
digit strings, date-times in KST ``YYYYMMDDHHMMSS``). Implements ``VirtualAccountPort``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from giftcash.adapters.banks.notifications import (
    DEFAULT_TOLERANCE_S,
    incoming_deposit,
    verify_deposit_notification,
)
from giftcash.adapters.http import call, json_body, make_client
from giftcash.service.ports import Ambiguous, BankClosed, Unavailable
from giftcash.service.ports.virtual_accounts import (
    BankDeposit,
    BankReturn,
    DepositNotice,
    DepositReturn,
    IncomingDeposit,
    VirtualAccount,
)

OK, BANK_OK = "A0000", "000"
NOT_FOUND, ID_REUSED, REFERENCE_REUSED = "404", "409", "408"
BANK_CLOSED, NO_FUNDS = "531", "551"
KST = timezone(timedelta(hours=9))
MAX_PAGES = 2_000  # of the window listing (500 deposits a page): a day's ceiling, not a loop


class HttpVirtualAccounts:
    def __init__(
        self,
        base_url: str,
        *,
        notification_secret: str,
        tolerance_s: int = DEFAULT_TOLERANCE_S,
        timeout_s: float = 5.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        client: httpx.Client | None = None,
    ) -> None:
        self.http = client or make_client(base_url, timeout_s)
        self.secret = notification_secret
        self.tolerance_s = tolerance_s
        self.now = now

    def close_client(self) -> None:
        self.http.close()

    def _post(self, path: str, body: dict[str, Any], *, money: bool) -> dict[str, Any]:
        body = {**body, "tran_dtime": self.now().astimezone(KST).strftime("%Y%m%d%H%M%S")}
        r = call(lambda: self.http.post(path, json=body), money=money)
        data = json_body(r)
        if r.status_code >= 400 or not data:
            # A malformed request is our bug; anything else unreadable is the bank's.
            assert r.status_code != 422, f"the bank refused our request shape: {path}"
            if money:
                raise Ambiguous(f"HTTP {r.status_code}")
            raise Unavailable(f"HTTP {r.status_code}")
        return data

    def issue(
        self, reference: str, amount: int, holder_name: str, expires_at: datetime
    ) -> VirtualAccount:
        assert amount > 0 and expires_at.tzinfo is not None
        data = self._post(
            "/v2.0/vaccount/issue",
            {
                "reference": reference,
                "tran_amt": str(amount),
                "account_holder_name": holder_name,
                "expire_dtime": expires_at.astimezone(KST).strftime("%Y%m%d%H%M%S"),
            },
            money=True,
        )
        code = str(data.get("bank_rsp_code") or "")
        if data.get("rsp_code") != OK:
            # The same reference with other terms: we never send that, so it is a bug.
            assert code != REFERENCE_REUSED, "virtual account reference reused with other terms"
            raise Unavailable(f"bank refused {code or data.get('rsp_code')}")
        return VirtualAccount(
            bank_code=str(data["bank_code_std"]),
            account_number=str(data["account_num"]),
            amount=int(data["tran_amt"]),
            expires_at=_kst(str(data["expire_dtime"])),
        )

    def close(self, account_number: str) -> None:
        data = self._post("/v2.0/vaccount/close", {"account_num": account_number}, money=True)
        if data.get("rsp_code") != OK:
            raise Unavailable(f"bank refused {data.get('bank_rsp_code') or data.get('rsp_code')}")

    def deposits(self, account_number: str) -> tuple[IncomingDeposit, ...]:
        data = self._post("/v2.0/vaccount/deposits", {"account_num": account_number}, money=False)
        if data.get("rsp_code") != OK:
            raise Unavailable(f"bank refused {data.get('bank_rsp_code') or data.get('rsp_code')}")
        try:
            return tuple(incoming_deposit(d) for d in data.get("res_list") or [])
        except (ValueError, KeyError, TypeError):
            raise Unavailable("malformed deposits answer") from None

    def return_deposit(self, key: str, deposit_id: str, amount: int, memo: str) -> DepositReturn:
        try:
            data = self._post(
                "/v2.0/vaccount/return",
                {
                    "bank_tran_id": key,
                    "deposit_id": deposit_id,
                    "tran_amt": str(amount),
                    "print_content": memo,
                },
                money=True,
            )
        except Ambiguous:
            return self._resolve(key, deposit_id, amount)
        code = str(data.get("bank_rsp_code") or "")
        if data.get("rsp_code") == OK and code == BANK_OK:
            return DepositReturn("returned", key, deposit_id, int(data.get("tran_amt", amount)))
        # The same key for another deposit or amount: we never send that, so it is a bug.
        assert code != ID_REUSED, "return key reused with another request"
        if code == BANK_CLOSED:  # nothing done: the same key goes again after reopening
            reopens_at = _kst_or_none(data.get("available_dtime"))
            raise BankClosed("the payer's bank is closed", reopens_at)
        if code == NO_FUNDS:  # nothing done: try again later with the same key
            raise Unavailable(f"bank refused {code}")
        message = f"{code} {data.get('bank_rsp_message') or ''}".strip()
        return DepositReturn("rejected", key, deposit_id, amount, message)

    def _resolve(self, key: str, deposit_id: str, amount: int) -> DepositReturn:
        """A lost answer: the bank's record under the key decides; when the inquiry cannot
        tell (not seen yet, or unreachable), the outcome is unknown, and the same key is
        asked again later."""
        try:
            found = self.return_by_key(key)
        except Unavailable:
            found = None
        if found is None:
            return DepositReturn("unknown", key, deposit_id, amount, "answer lost")
        return found

    def return_by_key(self, key: str) -> DepositReturn | None:
        data = self._post("/v2.0/vaccount/return/result", {"org_bank_tran_id": key}, money=False)
        status = str(data.get("status") or "")
        if data.get("rsp_code") != OK or status not in ("returned", "rejected", "not_found"):
            raise Unavailable(f"bank answered {data.get('rsp_code')} {status}".strip())
        if status == "not_found":
            return None
        message = "" if status == "returned" else (
            f"{data.get('bank_rsp_code') or ''} {data.get('bank_rsp_message') or ''}".strip()
        )  # fmt: skip
        return DepositReturn(
            status,  # type: ignore[arg-type]
            key,
            str(data.get("deposit_id") or ""),
            int(data.get("tran_amt") or 0),
            message,
        )

    def deposits_between(self, since: datetime, until: datetime) -> tuple[BankDeposit, ...]:
        window = {
            "from_dtime": since.astimezone(KST).strftime("%Y%m%d%H%M%S"),
            "to_dtime": until.astimezone(KST).strftime("%Y%m%d%H%M%S"),
        }
        out: list[BankDeposit] = []
        trace = ""
        for _ in range(MAX_PAGES):
            data = self._post(
                "/v2.0/vaccount/transactions",
                {**window, "befor_inquiry_trace_info": trace},
                money=False,
            )
            if data.get("rsp_code") != OK:
                raise Unavailable(
                    f"bank refused {data.get('bank_rsp_code') or data.get('rsp_code')}"
                )
            try:
                out.extend(_bank_deposit(d) for d in data.get("res_list") or [])
            except (ValueError, KeyError, TypeError):
                raise Unavailable("malformed deposits listing") from None
            trace = str(data.get("befor_inquiry_trace_info") or "")
            if data.get("next_page_yn") != "Y":
                return tuple(out)
            if not trace:
                raise Unavailable("the listing has more pages but no way to ask for them")
        raise Unavailable(f"the deposits listing ran past {MAX_PAGES} pages")

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> DepositNotice:
        return verify_deposit_notification(
            self.secret, headers, body, now=self.now(), tolerance_s=self.tolerance_s
        )


def _bank_deposit(d: Mapping[str, Any]) -> BankDeposit:
    returns = []
    for r in d.get("returns") or []:
        outcome = str(r["status"])
        if outcome not in ("returned", "rejected"):
            raise ValueError("unknown return status")
        at = datetime.fromisoformat(str(r["returned_at"]))
        if at.tzinfo is None:
            raise ValueError("returned_at without an offset")
        returns.append(
            BankReturn(str(r["bank_tran_id"]), int(str(r["tran_amt"])), outcome, at)  # type: ignore[arg-type]
        )
    return BankDeposit(
        account_number=str(d["account_num"]),
        reference=str(d["reference"]),
        deposit=incoming_deposit(d),
        returns=tuple(returns),
    )


def _kst_or_none(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) != 14 or not value.isdigit():
        return None
    try:
        return _kst(value)
    except ValueError:
        return None


def _kst(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=KST).astimezone(UTC)
