"""Selling: the submission form (one code, a pasted list, a CSV file), the format check as
the customer types, and the submission's page whose items update live until paid.

The pasted codes are never sent back: the HTMX form swaps only its message area, so a
correction keeps the text in the customer's browser; without JavaScript the form comes
back empty with the problems listed by line number.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from giftcash.catalogue import live as catalogue
from giftcash.domain.advisor import KST
from giftcash.domain.banks import BANKS
from giftcash.domain.brands import Brand
from giftcash.domain.errors import DomainError
from giftcash.domain.quotes import FundingSource
from giftcash.domain.states import ITEM_TERMINAL
from giftcash.entrypoints.web import form_tokens, intake, messages
from giftcash.entrypoints.web.customer_prices import (
    PURCHASE_DATE_ERROR,
    first_face_value,
    parse_amount,
    purchase_moment,
)
from giftcash.entrypoints.web.i18n import N_, Tr
from giftcash.entrypoints.web.pages import (
    client_address,
    field,
    form,
    is_htmx,
    redirect,
    render,
    require,
    route_class,
    status_of,
    tr_of,
)
from giftcash.entrypoints.web.security import CUSTOMER, deps_of
from giftcash.identity import bank_accounts
from giftcash.intake import submissions
from giftcash.intake.submissions import ItemIn
from giftcash.service.deps import Deps

router = APIRouter(route_class=route_class(CUSTOMER), include_in_schema=False)

POLL_INTERVAL = "1500ms"
MAX_PASTE_CHARS = 200_000
MAX_CSV_BYTES = 512 * 1024
MAX_PROBLEMS_SHOWN = 5

CSV_PROBLEMS = {
    "too_many": N_("A sale has at most %(limit)s codes."),
    "not_text": N_("The file is not a UTF-8 text (CSV) file."),
    "header": N_("The first line must be: brand_id,code,pin,face_value,funding_source"),
    "face_value": N_("The face value must be a whole number."),
    "field_too_long": N_("A field is too long."),
    "empty_code": N_("The code is empty."),
    "unknown_brand": N_("Unknown brand_id."),
    "funding_source": N_("Unknown funding_source."),
    "face_value_not_offered": N_("This brand is not sold at this face value."),
}


def _sellable(request: Request) -> dict[str, Brand]:
    return {b.id: b for b in catalogue.current_brands(deps_of(request)).values() if b.enabled}


def _form_page(request: Request, customer_id: str, *, status: int = 200, **extra: object):
    deps = deps_of(request)
    accounts = [
        a for a in bank_accounts.list_bank_accounts(deps, customer_id) if a.status == "verified"
    ]
    brands = _sellable(request)
    brand = brands.get(field(request, "brand_id", 64)) or next(iter(brands.values()), None)
    context = {
        "accounts": accounts,
        "brands": list(brands.values()),
        "brand": brand,
        "purpose": "sell",
        "face_value": parse_amount(field(request, "face_value", 20))
        or (first_face_value(brand) if brand else 0),
        "paused": brand is None,  # every brand switched off: nothing to sell now
        "funding_source": field(request, "funding_source", 32),
        "sources": [s.value for s in FundingSource],
        "mode": field(request, "mode", 8) or "one",
        "purchased_on": field(request, "purchased_on", 10),
        "today": deps.clock.now().astimezone(KST).date().isoformat(),
        "problems": [],
        **extra,
    }
    return render(request, "customer/sell.html", context, status=status)


@router.get("/sell")
def sell_page(request: Request) -> Response:
    return _form_page(request, require(request))


def _problems_answer(request: Request, customer_id: str, problems: list[str]) -> Response:
    if is_htmx(request):
        return render(request, "customer/_problems.html", {"problems": problems}, status=422)
    return _form_page(request, customer_id, status=422, problems=problems)


def _line_problems(tr: Tr, brand: Brand, lines: list[intake.Line]) -> list[str]:
    out = []
    for line in lines:
        why = messages.format_problem(tr, brand, line.code, line.pin)
        if why:
            out.append(tr("Line %(n)s: %(why)s", n=line.number, why=why))
    return out


def _submit(
    request: Request, customer_id: str, items: list[ItemIn], numbers: list[int]
) -> Response:
    tr = tr_of(request)

    def work(deps: Deps) -> dict[str, str]:
        view = submissions.submit(
            deps,
            customer_id,
            bank_account_id=field(request, "bank_account_id", 64),
            items=items,
            device_key=client_address(request),
        )
        return {"location": f"/submissions/{view.submission.id}"}

    try:
        # sent twice (a double tap, a retry): one sale, and both answers show its receipt
        answer = form_tokens.run(request, CUSTOMER, customer_id, work)
    except DomainError as e:
        if e.code == "duplicate_in_request":
            first, second = e.context.get("first", 0), e.context.get("second", 0)
            why = tr(
                "Lines %(a)s and %(b)s carry the same code.", a=numbers[first], b=numbers[second]
            )
        else:
            why = messages.error_text(tr, e)
        if is_htmx(request):
            return render(request, "customer/_problems.html", {"problems": [why]}, status=422)
        return _form_page(request, customer_id, status=status_of(e), problems=[why])
    return redirect(request, answer["location"])


@router.post("/sell")
def sell(request: Request) -> Response:
    customer_id = require(request)
    tr = tr_of(request)
    brand = _sellable(request).get(field(request, "brand_id", 64))
    face = parse_amount(field(request, "face_value", 20))
    source = field(request, "funding_source", 32)
    if brand is None:
        return _problems_answer(request, customer_id, [tr("Choose the brand of the voucher.")])
    if face is None or not brand.face_values.allows(face):
        return _problems_answer(
            request, customer_id, [tr(messages.ERRORS["face_value_not_offered"])]
        )
    if source not in {s.value for s in FundingSource}:
        return _problems_answer(
            request, customer_id, [tr(messages.ERRORS["unknown_funding_source"])]
        )
    lines = _lines(request, brand)
    if not lines:
        return _problems_answer(request, customer_id, [tr("Enter at least one code.")])
    limit = deps_of(request).limits.max_items_per_submission
    if len(lines) > limit:
        return _problems_answer(request, customer_id, [tr(CSV_PROBLEMS["too_many"], limit=limit)])
    problems = _line_problems(tr, brand, lines)
    if problems:
        return _problems_answer(request, customer_id, problems)
    purchased_at = purchase_moment(field(request, "purchased_on", 10), deps_of(request).clock.now())
    if purchased_at is False:
        return _problems_answer(request, customer_id, [tr(PURCHASE_DATE_ERROR)])
    items = [
        ItemIn(brand.id, ln.code, face, source, ln.pin, purchased_at=purchased_at or None)
        for ln in lines
    ]
    return _submit(request, customer_id, items, [ln.number for ln in lines])


def _lines(request: Request, brand: Brand) -> list[intake.Line]:
    if field(request, "mode", 8) == "paste":
        text = field(request, "paste", MAX_PASTE_CHARS)
        return intake.pasted_lines(text, brand.code_format.pin_length is not None)
    code = field(request, "code", 64)
    return [intake.Line(1, code, field(request, "pin", 32) or None)] if code else []


@router.post("/sell/csv")
def sell_csv(request: Request) -> Response:
    customer_id = require(request)
    tr = tr_of(request)
    upload = form(request).get("file")
    data = upload.file.read(MAX_CSV_BYTES + 1) if isinstance(upload, UploadFile) else b""
    if not data or len(data) > MAX_CSV_BYTES:
        return _problems_answer(request, customer_id, [tr("Choose a CSV file (at most 512 KB).")])
    limit = deps_of(request).limits.max_items_per_submission
    rows, found = intake.csv_items(data, limit)
    problems = [_csv_problem(tr, p.number, p.reason, limit) for p in found]
    brands = _sellable(request)
    sources = {s.value for s in FundingSource}
    for number, item in rows:
        brand = brands.get(item.brand_id)
        if brand is None:
            problems.append(_csv_problem(tr, number, "unknown_brand", limit))
        elif item.funding_source not in sources:
            problems.append(_csv_problem(tr, number, "funding_source", limit))
        elif not brand.face_values.allows(item.face_value):
            problems.append(_csv_problem(tr, number, "face_value_not_offered", limit))
        else:
            problems += _line_problems(tr, brand, [intake.Line(number, item.code, item.pin)])
    if not rows and not problems:
        problems.append(tr("Enter at least one code."))
    if problems:
        return _problems_answer(request, customer_id, problems)
    return _submit(request, customer_id, [i for _, i in rows], [n for n, _ in rows])


def _csv_problem(tr: Tr, number: int, reason: str, limit: int) -> str:
    why = tr(CSV_PROBLEMS[reason], limit=limit)
    return tr("Line %(n)s: %(why)s", n=number, why=why) if number else why


@router.post("/sell/check")
def check(request: Request) -> Response:
    """Does what is typed fit the brand's format? Answers ok or a reason, never the code."""
    require(request)
    tr = tr_of(request)
    brand = _sellable(request).get(field(request, "brand_id", 64))
    if brand is None:
        return render(request, "customer/_check.html", {"ok": None, "problems": [], "more": 0})
    lines = _lines(request, brand)
    problems = _line_problems(tr, brand, lines)
    ok = tr.ngettext("%(num)s code looks right.", "%(num)s codes look right.", len(lines))
    context = {
        "ok": ok if lines and not problems else None,
        "problems": problems[:MAX_PROBLEMS_SHOWN],
        "more": max(0, len(problems) - MAX_PROBLEMS_SHOWN),
    }
    if field(request, "mode", 8) != "paste" and problems:  # one code: no line numbers
        context["problems"] = [messages.format_problem(tr, brand, lines[0].code, lines[0].pin)]
    return render(request, "customer/_check.html", context)


def _submission_context(request: Request, customer_id: str, submission_id: str) -> dict:
    deps = deps_of(request)
    view = submissions.get_submission(deps, customer_id, submission_id[:64])
    live = any(it.status not in ITEM_TERMINAL for it in view.items)
    return {
        "submission": view.submission,
        "status": submissions.submission_status(view.items),
        "items": view.items,
        "totals": view.totals,
        "brands": deps.brands(),
        "live": live,
        "poll": POLL_INTERVAL,
    }


def _move_context(request: Request, customer_id: str, context: dict) -> dict | None:
    """When the bank returned a payout of this sale, its account is ``failed`` and the
    items wait: the customer's other verified accounts to send them to instead."""
    if not context["live"]:
        return None
    accounts = bank_accounts.list_bank_accounts(deps_of(request), customer_id)
    current = next((a for a in accounts if a.id == context["submission"].bank_account_id), None)
    if current is None or current.status != "failed":
        return None
    targets = [a for a in accounts if a.status == "verified"]
    return {"current": current, "targets": targets}


def _submission_page(
    request: Request, customer_id: str, submission_id: str, *, status: int = 200, **extra
) -> Response:
    context = _submission_context(request, customer_id, submission_id)
    context["move"] = _move_context(request, customer_id, context)
    context["banks"] = BANKS
    context["moved"] = request.query_params.get("done") == "moved"
    context["move_error"] = None
    return render(request, "customer/submission.html", {**context, **extra}, status=status)


@router.get("/submissions/{submission_id}")
def submission_page(request: Request, submission_id: str) -> Response:
    return _submission_page(request, require(request), submission_id)


@router.post("/submissions/{submission_id}/account")
def move_submission(request: Request, submission_id: str) -> Response:
    """Send a sale's waiting payout to another verified account (after a bank return)."""
    customer_id = require(request)

    def work(deps: Deps) -> dict[str, str]:
        target = field(request, "bank_account_id", 64)
        submissions.change_bank_account(deps, customer_id, submission_id[:64], target)
        return {"location": f"/submissions/{submission_id[:64]}?done=moved"}

    try:
        answer = form_tokens.run(request, CUSTOMER, customer_id, work)
    except DomainError as e:
        if e.code in ("submission_not_found", "form_expired"):
            raise
        error = messages.error_text(tr_of(request), e)
        return _submission_page(
            request, customer_id, submission_id, status=status_of(e), move_error=error
        )
    return redirect(request, answer["location"])


@router.get("/submissions/{submission_id}/live")
def submission_live(request: Request, submission_id: str) -> Response:
    context = _submission_context(request, require(request), submission_id)
    return render(request, "customer/_submission_live.html", context)
