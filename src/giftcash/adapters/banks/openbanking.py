"""Open-banking style bank client (KFTC shape: real-name inquiry, deposit transfer keyed
by ``bank_tran_id``, transfer-result inquiry). See DOMAIN-FACTS §3."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

import httpx

from giftcash.adapters.http import call, json_body, make_client
from giftcash.service.ports import (
    AccountHolder,
    Ambiguous,
    BankClosed,
    Deposit,
    TransferResult,
    Unavailable,
)

OK = "A0000"
BANK_OK = "000"
# The receiving bank is in its nightly window or maintenance (점검 시간): nothing was done;
# ``available_dtime`` (KST YYYYMMDDHHMMSS) says when it takes transfers again. The
# simulator's code: the real networks' codes for this differ per bank (unverified).
BANK_CLOSED = "531"
KST = timezone(timedelta(hours=9))
# The recipient's bank refused: no such account (412), holder mismatch (815, 820).
RECIPIENT_REFUSALS = frozenset({"412", "815", "820"})


class OpenBankingBank:
    def __init__(
        self,
        base_url: str,
        *,
        client_name: str = "giftcash",
        operating_bank_code: str = "004",
        operating_account: str = "00000000000001",
        timeout_s: float = 5.0,
        now: Callable[[], datetime] = datetime.now,
        client: httpx.Client | None = None,
    ):
        self.http = client or make_client(base_url, timeout_s)
        self.client_name = client_name
        self.operating_bank_code = operating_bank_code
        self.operating_account = operating_account
        self.now = now

    def close(self) -> None:
        self.http.close()

    def _dtime(self) -> str:
        return self.now().strftime("%Y%m%d%H%M%S")

    def real_name(self, bank_code: str, account_number: str, birth_date: date) -> AccountHolder:
        r = call(
            lambda: self.http.post(
                "/v2.0/inquiry/real_name",
                json={
                    "bank_code_std": bank_code,
                    "account_num": account_number,
                    "account_holder_info_type": " ",
                    "account_holder_info": birth_date.strftime("%y%m%d"),
                    "tran_dtime": self._dtime(),
                },
            ),
            money=False,
        )
        body = json_body(r)
        if body.get("rsp_code") == OK and body.get("bank_rsp_code", BANK_OK) == BANK_OK:
            return AccountHolder(True, body.get("account_holder_name"))
        return AccountHolder(
            False, None, str(body.get("bank_rsp_message") or body.get("rsp_message") or "")
        )

    def deposit(
        self,
        bank_tran_id: str,
        bank_code: str,
        account_number: str,
        holder_name: str,
        amount: int,
        memo: str,
    ) -> Deposit:
        body = {
            "cntr_account_type": "N",
            "cntr_account_num": self.operating_account,
            "wd_pass_phrase": "NONE",
            "wd_print_content": memo,
            "name_check_option": "on",
            "tran_dtime": self._dtime(),
            "req_cnt": 1,
            "req_list": [
                {
                    "tran_no": 1,
                    "bank_tran_id": bank_tran_id,
                    "bank_code_std": bank_code,
                    "account_num": account_number,
                    "account_holder_name": holder_name,
                    "print_content": memo,
                    "tran_amt": str(amount),
                    "req_client_name": self.client_name,
                    "req_client_bank_code": self.operating_bank_code,
                    "req_client_account_num": self.operating_account,
                    "transfer_purpose": "TR",
                }
            ],
        }
        r = call(lambda: self.http.post("/v2.0/transfer/deposit/acnt_num", json=body), money=True)
        data = json_body(r)
        items = data.get("res_list") or data.get("req_list") or []
        item = items[0] if items else {}
        if data.get("rsp_code") == OK and item.get("bank_rsp_code", BANK_OK) == BANK_OK:
            return Deposit("done", bank_tran_id, int(item.get("tran_amt", amount)))
        if r.status_code >= 400 and not data:
            raise Ambiguous(f"HTTP {r.status_code} without a body")
        code = str(item.get("bank_rsp_code") or "")
        message = str(item.get("bank_rsp_message") or data.get("rsp_message") or "")
        if code == "409":
            # The same bank_tran_id with other content: we never send that, so it is a bug.
            raise AssertionError("bank_tran_id reused with another request")
        if code == BANK_CLOSED:
            raise BankClosed("the receiving bank is closed", _kst(item.get("available_dtime")))
        if code in RECIPIENT_REFUSALS:
            return Deposit("rejected", bank_tran_id, amount, f"{code} {message}".strip())
        # Refusals about our side (e.g. 551 insufficient funds) moved nothing: try later.
        raise Unavailable(f"bank refused {code or data.get('rsp_code')}: {message}")

    def transfer_result(self, bank_tran_id: str, amount: int, on: date) -> TransferResult:
        r = call(
            lambda: self.http.post(
                "/v2.0/transfer/result",
                json={
                    "check_type": "2",
                    "tran_dtime": self._dtime(),
                    "req_cnt": 1,
                    "req_list": [
                        {
                            "tran_no": 1,
                            "org_bank_tran_id": bank_tran_id,
                            "org_bank_tran_date": on.strftime("%Y%m%d"),
                            "org_tran_amt": str(amount),
                        }
                    ],
                },
            ),
            money=False,
        )
        data = json_body(r)
        items = data.get("res_list") or []
        item = items[0] if items else {}
        status = str(item.get("status") or "").lower()
        if status in {"done", "pending", "returned", "not_found", "rejected"}:
            outcome = status
        elif item.get("bank_rsp_code") == BANK_OK:
            outcome = "done"
        else:
            outcome = "not_found"
        amt = item.get("tran_amt")
        return TransferResult(outcome, bank_tran_id, int(amt) if amt is not None else None)


def _kst(value: object) -> datetime | None:
    """A KFTC date-time (YYYYMMDDHHMMSS, Korean time) as an aware datetime; None if absent
    or malformed."""
    if not isinstance(value, str) or len(value) != 14 or not value.isdigit():
        return None
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=KST)
    except ValueError:
        return None
