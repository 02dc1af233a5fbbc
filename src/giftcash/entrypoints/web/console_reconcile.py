"""Reconciliation (finance and admin): upload the bank's statement or an issuer's
settlement report and see what matches the books (``reconcile/matching.py``, the same as
``giftcash reconcile bank|issuer``). Importing a statement stores its lines once and books
the bank's fees once, so uploading the same file again changes nothing.

The service keeps the statement lines, not the reports; the console keeps the last report
of each kind in this process's memory (gone when the server restarts) so that finance can
come back to it, and says so on the page.
"""

from __future__ import annotations

import io
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from giftcash.entrypoints.web.console_pages import allow, console_errors, render_console, router
from giftcash.entrypoints.web.i18n import N_
from giftcash.entrypoints.web.pages import form, tr_of
from giftcash.entrypoints.web.security import deps_of
from giftcash.reconcile import deposits
from giftcash.reconcile import matching as reconcile

reconciliation = router()

KINDS = ("bank", "issuer")

BANK_SECTIONS = (
    (
        "missing_here",
        N_("Missing here: the bank moved it, our books do not know it"),
        ("bank_tran_id", "direction", "amount", "booked_on", "counterparty"),
    ),
    (
        "missing_at_bank",
        N_("Missing at the bank: our books say it left"),
        ("bank_tran_id", "kind", "ref", "amount", "books_status", "booked_at"),
    ),
    (
        "amount_mismatch",
        N_("Amounts that differ"),
        ("bank_tran_id", "direction", "kind", "ref", "bank_amount", "books_amount"),
    ),
    (
        "returned",
        N_("Returned by the bank"),
        ("bank_tran_id", "kind", "ref", "amount", "books_status", "note"),
    ),
    ("conflicts", N_("Lines sent again with other content"), ("bank_tran_id", "direction", "note")),
    (
        "deposit_findings",
        N_("Buyers' deposits and returns that differ from the bank's records"),
        ("finding", "deposit_id", "ref", "bank_amount", "books_amount", "books_status", "note"),
    ),
    (
        "deposit_pending",
        N_("Returns under way (the worker records them)"),
        ("deposit_id", "ref", "amount", "books_status", "note"),
    ),
)
# the kinds of ``reconcile/deposits.py``'s findings, as the page names them
FINDINGS = {
    "deposit_unrecorded": N_("Deposit at the bank, not in our books"),
    "deposit_missing_at_bank": N_("Deposit in our books, not at the bank"),
    "amount_mismatch": N_("Amounts differ"),
    "return_missing": N_("Return in our books, not at the bank"),
    "return_twice": N_("Returned more than once at the bank"),
    "return_unrecorded": N_("Returned at the bank, not in our books"),
    "kept_unsettled": N_("Kept for an order not sold"),
}
ISSUER_SECTIONS = (
    (
        "missing_here",
        N_("Missing here: the issuer settled it, our ledger has no capture"),
        ("issuer", "idempotency_key", "amount", "day", "books_status", "note"),
    ),
    (
        "missing_at_issuer",
        N_("Missing at the issuer: our ledger captured it, the report lacks it"),
        ("issuer", "idempotency_key", "item_id", "amount", "books_status", "booked_at"),
    ),
    (
        "amount_mismatch",
        N_("Amounts that differ"),
        ("issuer", "idempotency_key", "issuer_amount", "books_amount", "books_issuer"),
    ),
    (
        "totals",
        N_("Totals per issuer"),
        ("issuer", "issuer_amount", "books_amount", "difference", "ledger_balance"),
    ),
)
COLUMNS = {
    "bank_tran_id": N_("Bank transfer id"),
    "direction": N_("Direction"),
    "amount": N_("Amount"),
    "booked_on": N_("Booked on"),
    "counterparty": N_("Counterparty"),
    "kind": N_("Kind"),
    "ref": N_("Reference"),
    "books_status": N_("State in our books"),
    "booked_at": N_("Booked at"),
    "bank_amount": N_("At the bank"),
    "books_amount": N_("In our books"),
    "note": N_("Note"),
    "issuer": N_("Issuer"),
    "idempotency_key": N_("Redemption key"),
    "item_id": N_("Item"),
    "day": N_("Day"),
    "issuer_amount": N_("At the issuer"),
    "books_issuer": N_("Issuer in our books"),
    "difference": N_("Difference"),
    "ledger_balance": N_("Ledger balance"),
    "finding": N_("Finding"),
    "deposit_id": N_("Bank deposit id"),
}
MONEY_COLUMNS = frozenset(
    {"amount", "bank_amount", "books_amount", "issuer_amount", "difference", "ledger_balance"}
)


def _last(request: Request) -> dict[str, dict[str, Any]]:
    state = request.app.state
    if not hasattr(state, "console_reconciliation"):
        state.console_reconciliation = {}
    return state.console_reconciliation


def _page(request: Request, status: int = 200, error: str | None = None) -> Response:
    context = {
        "last": _last(request),
        "sections": {"bank": BANK_SECTIONS, "issuer": ISSUER_SECTIONS},
        "COLUMNS": COLUMNS,
        "MONEY_COLUMNS": MONEY_COLUMNS,
        "FINDINGS": FINDINGS,
        "error": error,
    }
    return render_console(request, "console/reconciliation.html", context, status=status)


@reconciliation.get("/reconciliation")
@console_errors
def reconciliation_page(request: Request) -> Response:
    allow(request, "reconciliation")
    return _page(request)


@reconciliation.post("/reconciliation/{kind}")
@console_errors
def upload(request: Request, kind: str) -> Response:
    op = allow(request, "reconciliation")
    upload = form(request).get("file")
    if kind not in KINDS or not isinstance(upload, UploadFile):
        return _page(request, 422, _error(request, N_("Choose the CSV file to upload.")))
    raw = upload.file.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _page(request, 422, _error(request, N_("The file is not a UTF-8 text (CSV) file.")))
    deps = deps_of(request)
    lines = io.StringIO(text)
    formats = request.app.state.adapters  # the files' formats are the adapters' (bootstrap)
    if kind == "bank":
        result: Any = deposits.reconcile_bank_day(deps, formats.parse_statement(lines))
        report = _bank_report(result)
    else:
        result = reconcile.reconcile_issuer(deps, formats.parse_settlement(lines))
        report = result.as_dict()
    _last(request)[kind] = {
        "at": deps.clock.now(),
        "by": op.username,
        "file": (upload.filename or "")[:80],
        "clean": result.clean,
        "report": report,
    }
    return _page(request)


def _bank_report(day: deposits.BankDay) -> dict[str, Any]:
    """The statement's report with the deposits' findings as two more sections."""
    report = day.statement.as_dict()
    found = day.deposits.as_dict() if day.deposits is not None else None
    report["deposit_findings"] = found["findings"] if found else []
    report["deposit_pending"] = found["pending"] if found else []
    report["deposits_summary"] = found["summary"] if found else None
    report["deposits_unread"] = day.deposits_unread
    return report


def _error(request: Request, message: str) -> str:
    return tr_of(request)(message)
