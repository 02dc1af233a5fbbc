"""Selling: the submission form (one code, a pasted list, a CSV file), the format check as
the customer types, and the submission's page whose items update live until paid.

The pasted codes are never sent back: the HTMX form swaps only its message area, so a
correction keeps the text in the customer's browser; without JavaScript the form comes
back empty with the problems listed by line number.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from giftcash.catalogue import live as catalogue
from giftcash.domain import declines as dc
from giftcash.domain.advisor import KST
from giftcash.domain.banks import BANKS
from giftcash.domain.brands import Brand
from giftcash.domain.errors import DomainError
from giftcash.domain.quotes import FundingSource
from giftcash.domain.records import BankAccount
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
from giftcash.intake import sale_preview, submissions
from giftcash.intake.sale_preview import SalePreview
from giftcash.intake.submissions import ItemIn
from giftcash.payouts import bank_hours
from giftcash.redemption import evidence
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
        "confirm": None,
        **extra,
    }
    if brand is not None and accounts:
        context.update(_preview_context(request, customer_id, brand, context["face_value"]))
    if extra.get("keep_codes"):  # no JavaScript: the confirmation carries the codes
        context.update(
            kept_paste=field(request, "paste", MAX_PASTE_CHARS),
            kept_code=field(request, "code", 64),
            kept_pin=field(request, "pin", 32),
        )
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
    request: Request,
    customer_id: str,
    items: list[ItemIn],
    numbers: list[int],
    pv: SalePreview | None = None,
    digest: str = "",
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
        if e.code == "quote_changed" and pv is not None:
            # never at the new rate silently: the new price, to confirm again
            fresh = _preview(request, customer_id, _form_of(request, tr))
            return _confirmation(request, customer_id, fresh, digest, changed=True)
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


@dataclass(frozen=True, slots=True)
class _Form:
    brand: Brand
    face: int
    source: str
    lines: list[intake.Line]
    purchased_at: datetime | None


def _read_form(request: Request, tr: Tr) -> _Form | list[str]:
    """The sell form's fields, or what is wrong with them (never a code)."""
    brand = _sellable(request).get(field(request, "brand_id", 64))
    face = parse_amount(field(request, "face_value", 20))
    source = field(request, "funding_source", 32)
    if brand is None:
        return [tr("Choose the brand of the voucher.")]
    if face is None or not brand.face_values.allows(face):
        return [tr(messages.ERRORS["face_value_not_offered"])]
    if source not in {s.value for s in FundingSource}:
        return [tr(messages.ERRORS["unknown_funding_source"])]
    lines = _lines(request, brand)
    if not lines:
        return [tr("Enter at least one code.")]
    limit = deps_of(request).limits.max_items_per_submission
    if len(lines) > limit:
        return [tr(CSV_PROBLEMS["too_many"], limit=limit)]
    problems = _line_problems(tr, brand, lines)
    if problems:
        return problems
    purchased_at = purchase_moment(field(request, "purchased_on", 10), deps_of(request).clock.now())
    if purchased_at is False:
        return [tr(PURCHASE_DATE_ERROR)]
    return _Form(brand, face, source, lines, purchased_at or None)


def _hmacs(request: Request, brand: Brand, lines: list[intake.Line]) -> tuple[str, ...]:
    """Keyed hashes of the codes that have the brand's format (the others are reported
    by the format check); the codes themselves stay here."""
    vault = deps_of(request).vault
    out = []
    for line in lines:
        try:
            norm, _ = brand.code_format.validate(line.code, line.pin)
        except DomainError:
            continue
        out.append(vault.hmac(norm))
    return tuple(out)


def _preview(
    request: Request, customer_id: str, f: _Form, *, with_codes: bool = True
) -> SalePreview:
    return sale_preview.preview(
        deps_of(request),
        customer_id,
        bank_account_id=field(request, "bank_account_id", 64),
        brand_id=f.brand.id,
        face_value=f.face,
        funding=f.source,
        count=len(f.lines),
        purchased_at=f.purchased_at,
        code_hmacs=_hmacs(request, f.brand, f.lines) if with_codes else (),
    )


def _sale_problems(
    tr: Tr, pv: SalePreview, lines: list[intake.Line], *, replay: bool = False
) -> list[str]:
    """What the submit would refuse or decline for the whole form, said before it.
    ``replay``: a confirmed form, perhaps sent twice; its first sending's codes and
    counts are this form's own, and its form token answers with that sale's receipt."""
    out = []
    if replay:
        return [
            tr("Lines %(a)s and %(b)s carry the same code.", a=lines[a].number, b=lines[b].number)
            for a, b in pv.codes.repeated_in_paste
        ]
    fits = pv.limits.fits(pv.each.face_value)
    if len(lines) > fits:
        out.append(
            tr.ngettext(
                "Today's limits leave room for %(num)s voucher of this value; remove the rest.",
                "Today's limits leave room for %(num)s vouchers of this value; remove the rest.",
                fits,
            )
        )
    for first, again in pv.codes.repeated_in_paste:
        out.append(
            tr(
                "Lines %(a)s and %(b)s carry the same code.",
                a=lines[first].number,
                b=lines[again].number,
            )
        )
    for i in pv.codes.already_received:
        out.append(tr("Line %(n)s: %(why)s", n=lines[i].number, why=tr(dc.DUPLICATE_CODE.text)))
    return out


def _digest(request: Request, f: _Form) -> str:
    """What the confirmation showed, as a keyed hash: a form changed after it needs a new
    confirmation (the codes are hashed, never sent back)."""
    parts = [f.brand.id, str(f.face), f.source, field(request, "bank_account_id", 64)]
    parts += [f"{ln.code}/{ln.pin or ''}" for ln in f.lines]
    return deps_of(request).vault.hmac("\x1f".join(parts))


@router.post("/sell")
def sell(request: Request) -> Response:
    """Two steps: the first answer is the confirmation (price, account, limits left, the
    scam warning where it applies); only its own button, for the same form and the same
    rate, submits."""
    customer_id = require(request)
    tr = tr_of(request)
    f = _read_form(request, tr)
    if isinstance(f, list):
        return _problems_answer(request, customer_id, f)
    pv = _preview(request, customer_id, f)
    if pv.declined:
        return _problems_answer(request, customer_id, [_decline_text(request, pv)])
    digest = _digest(request, f)
    confirmed = field(request, "step", 8) == "submit" and field(request, "sale", 128) == digest
    problems = _sale_problems(tr, pv, f.lines, replay=confirmed)
    if problems:
        return _problems_answer(request, customer_id, problems[:MAX_PROBLEMS_SHOWN])
    quoted = parse_amount(field(request, "quoted_fee_bps", 8))
    if not confirmed or quoted is None:
        return _confirmation(request, customer_id, pv, digest)
    items = [
        ItemIn(
            f.brand.id,
            ln.code,
            f.face,
            f.source,
            ln.pin,
            purchased_at=f.purchased_at,
            quoted_fee_bps=quoted,
        )
        for ln in f.lines
    ]
    return _submit(request, customer_id, items, [ln.number for ln in f.lines], pv, digest)


def _bank_wait(request: Request, account: BankAccount | None) -> str | None:
    """What the confirmation says when the customer's bank is closed now (점검 시간)."""
    if account is None:
        return None
    deps = deps_of(request)
    now = deps.clock.now()
    opens = bank_hours.expected_payout(deps, account.bank_code, now)
    return messages.bank_wait_text(tr_of(request), opens, now) if opens else None


def _decline_text(request: Request, pv: SalePreview) -> str:
    assert pv.declined is not None
    return messages.decline_text(tr_of(request), pv.declined[0], pv.declined[1])


def _confirmation(
    request: Request, customer_id: str, pv: SalePreview, digest: str, *, changed: bool = False
) -> Response:
    context = {
        "pv": pv,
        "sale_digest": digest,
        "bank_name": BANKS.get(pv.account.bank_code, "") if pv.account else "",
        "rate_changed": changed,
        "bank_wait": _bank_wait(request, pv.account),
    }
    if is_htmx(request):
        return render(request, "customer/_confirm.html", context)
    return _form_page(request, customer_id, confirm=context, keep_codes=True)


@router.post("/sell/preview")
def preview(request: Request) -> Response:
    """The price and today's limits as the customer types: no code is looked at here."""
    customer_id = require(request)
    brand = _sellable(request).get(field(request, "brand_id", 64))
    face = parse_amount(field(request, "face_value", 20))
    if brand is None or face is None or not brand.face_values.allows(face):
        return render(request, "customer/_preview.html", {"pv": None})
    return render(
        request, "customer/_preview.html", _preview_context(request, customer_id, brand, face)
    )


def _preview_context(request: Request, customer_id: str, brand: Brand, face: int) -> dict:
    source = field(request, "funding_source", 32)
    lines = _lines(request, brand)
    moment = purchase_moment(field(request, "purchased_on", 10), deps_of(request).clock.now())
    f = _Form(brand, face, source or "unknown", lines, moment or None)
    pv = _preview(request, customer_id, f, with_codes=False)
    return {
        "pv": pv,
        "count": len(lines),
        "fits": pv.limits.fits(face),
        "decline": _decline_text(request, pv) if pv.declined and source else None,
    }


def _form_of(request: Request, tr: Tr) -> _Form:
    f = _read_form(request, tr)
    assert not isinstance(f, list)  # read once already, unchanged
    return f


def _lines(request: Request, brand: Brand) -> list[intake.Line]:
    if field(request, "mode", 8) == "paste":
        text = field(request, "paste", MAX_PASTE_CHARS)
        return intake.pasted_lines(text, brand.code_format.pin_length is not None)
    code = field(request, "code", 64)
    return [intake.Line(1, code, field(request, "pin", 32) or None)] if code else []


@router.post("/sell/csv")
def sell_csv(request: Request) -> Response:
    """The file goes through the paste's two steps: the first answer is the confirmation
    (each brand and face value's price, the total, the account, limits left, the scam
    warning); only its own button, for the same file, account and rates, submits. The
    file stays chosen in the browser and is sent again with that button."""
    customer_id = require(request)
    tr = tr_of(request)
    upload = form(request).get("file")
    data = upload.file.read(MAX_CSV_BYTES + 1) if isinstance(upload, UploadFile) else b""
    if not data or len(data) > MAX_CSV_BYTES:
        return _csv_answer(request, customer_id, [tr("Choose a CSV file (at most 512 KB).")])
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
        return _csv_answer(request, customer_id, problems[:MAX_PROBLEMS_SHOWN])
    groups = _csv_groups(request, customer_id, brands, rows)
    declined = [_decline_text(request, g.pv) for g in groups if g.pv.declined]
    if declined:
        return _csv_answer(request, customer_id, declined)
    digest = deps_of(request).vault.hmac(
        "\x1f".join([field(request, "bank_account_id", 64), data.hex()])
    )
    confirmed = field(request, "step", 8) == "submit" and field(request, "sale", 128) == digest
    problems = _csv_sale_problems(tr, groups, replay=confirmed)
    if problems:
        return _csv_answer(request, customer_id, problems[:MAX_PROBLEMS_SHOWN])
    rates = {g.pv.each.brand_id: g.pv.each.fee_bps for g in groups}
    quoted = _quoted_rates(field(request, "quoted_rates", 400))
    if not confirmed or set(quoted) != set(rates):
        return _csv_confirmation(request, customer_id, groups, digest)
    items = [replace(i, quoted_fee_bps=quoted[i.brand_id]) for _, i in rows]
    return _submit(request, customer_id, items, [n for n, _ in rows])


@dataclass(frozen=True, slots=True)
class _CsvGroup:
    """The file's rows of one brand, face value and funding source, and their price."""

    brand: Brand
    numbers: list[int]  # the file's line numbers
    pv: SalePreview


def _csv_groups(
    request: Request,
    customer_id: str,
    brands: dict[str, Brand],
    rows: list[tuple[int, ItemIn]],
) -> list[_CsvGroup]:
    by_key: dict[tuple[str, int, str], list[tuple[int, ItemIn]]] = {}
    for number, item in rows:
        by_key.setdefault((item.brand_id, item.face_value, item.funding_source), []).append(
            (number, item)
        )
    groups = []
    for (brand_id, face, source), members in by_key.items():
        brand = brands[brand_id]
        lines = [intake.Line(n, i.code, i.pin) for n, i in members]
        f = _Form(brand, face, source, lines, None)
        groups.append(_CsvGroup(brand, [n for n, _ in members], _preview(request, customer_id, f)))
    return groups


def _csv_sale_problems(tr: Tr, groups: list[_CsvGroup], *, replay: bool) -> list[str]:
    """The paste's checks over the whole file: today's limits for all its rows together,
    the same code twice, codes already received."""
    out: list[str] = []
    for g in groups:
        for first, again in g.pv.codes.repeated_in_paste:
            a, b = g.numbers[first], g.numbers[again]
            out.append(tr("Lines %(a)s and %(b)s carry the same code.", a=a, b=b))
    if replay:
        return out  # its first sending's codes and counts are this file's own
    limits = groups[0].pv.limits
    count = sum(g.pv.count for g in groups)
    face_total = sum(g.pv.face_total for g in groups)
    if count > min(limits.items_left, limits.per_sale) or face_total > limits.won_left:
        out.append(
            tr(
                "Today's limits leave room for %(items)s vouchers and %(won)s; this file has "
                "%(count)s vouchers for %(total)s.",
                items=min(limits.items_left, limits.per_sale),
                won=tr.fmt.money(limits.won_left, "KRW"),
                count=count,
                total=tr.fmt.money(face_total, "KRW"),
            )
        )
    for g in groups:
        for i in g.pv.codes.already_received:
            out.append(tr("Line %(n)s: %(why)s", n=g.numbers[i], why=tr(dc.DUPLICATE_CODE.text)))
    return out


def _quoted_rates(text: str) -> dict[str, int]:
    """``brand:bps,brand:bps`` as the confirmation sent it; anything else is no rate."""
    out: dict[str, int] = {}
    for part in text.split(","):
        brand_id, _, bps = part.partition(":")
        if brand_id and bps.isdigit():
            out[brand_id] = int(bps)
    return out


def _csv_confirmation(
    request: Request, customer_id: str, groups: list[_CsvGroup], digest: str
) -> Response:
    first = groups[0].pv
    context = {
        "groups": groups,
        "sale_digest": digest,
        "quoted_rates": ",".join(f"{g.pv.each.brand_id}:{g.pv.each.fee_bps}" for g in groups),
        "count": sum(g.pv.count for g in groups),
        "face_total": sum(g.pv.face_total for g in groups),
        "fee_total": sum(g.pv.fee_total for g in groups),
        "payout_total": sum(g.pv.payout_total for g in groups),
        "account": first.account,
        "limits": first.limits,
        "scam_warning": any(g.pv.scam_warning for g in groups),
        "bank_name": BANKS.get(first.account.bank_code, "") if first.account else "",
        "bank_wait": _bank_wait(request, first.account),
    }
    if is_htmx(request):
        return render(request, "customer/_confirm_csv.html", context)
    return _form_page(request, customer_id, mode="csv", csv_confirm=context)


def _csv_answer(request: Request, customer_id: str, problems: list[str]) -> Response:
    if is_htmx(request):
        return render(request, "customer/_problems.html", {"problems": problems}, status=422)
    return _form_page(request, customer_id, status=422, problems=problems, mode="csv")


def _csv_problem(tr: Tr, number: int, reason: str, limit: int) -> str:
    why = tr(CSV_PROBLEMS[reason], limit=limit)
    return tr("Line %(n)s: %(why)s", n=number, why=why) if number else why


@router.post("/sell/check")
def check(request: Request) -> Response:
    """Does what is typed fit the brand's format? Answers ok or a reason, never the code."""
    customer_id = require(request)
    tr = tr_of(request)
    brand = _sellable(request).get(field(request, "brand_id", 64))
    if brand is None:
        return render(request, "customer/_check.html", {"ok": None, "problems": [], "more": 0})
    lines = _lines(request, brand)
    # the submit's own rules first: the cap, the same code twice, a code already sent
    face = parse_amount(field(request, "face_value", 20))
    limit = deps_of(request).limits.max_items_per_submission
    if len(lines) > limit:
        problems = [tr(CSV_PROBLEMS["too_many"], limit=limit)]
    elif lines and face is not None and brand.face_values.allows(face):
        source = field(request, "funding_source", 32) or "unknown"
        pv = _preview(request, customer_id, _Form(brand, face, source, lines, None))
        problems = _sale_problems(tr, pv, lines)
    else:
        problems = []
    problems += _line_problems(tr, brand, lines[:limit])
    ok = tr.ngettext("%(num)s code looks right.", "%(num)s codes look right.", len(lines))
    context = {
        "ok": ok if lines and not problems else None,
        "problems": problems[:MAX_PROBLEMS_SHOWN],
        "more": max(0, len(problems) - MAX_PROBLEMS_SHOWN),
    }
    if field(request, "mode", 8) != "paste" and problems:  # one code: no line numbers
        why = messages.format_problem(tr, brand, lines[0].code, lines[0].pin)
        context["problems"] = [why or tr(dc.DUPLICATE_CODE.text)]
    return render(request, "customer/_check.html", context)


def _submission_context(request: Request, customer_id: str, submission_id: str) -> dict:
    deps = deps_of(request)
    view = submissions.get_submission(deps, customer_id, submission_id[:64])
    live = any(it.status not in ITEM_TERMINAL for it in view.items)
    opens = bank_hours.sale_wait(deps, view.submission.bank_account_id, view.items)
    now = deps.clock.now()
    return {
        "bank_wait": messages.bank_wait_text(tr_of(request), opens, now) if opens else None,
        "evidence": evidence.for_sale(deps, customer_id, view.submission.id),
        "submission": view.submission,
        "status": submissions.submission_status(view.items),
        "items": view.items,
        "totals": view.totals,
        "brands": deps.brands(),
        "live": live,
        "poll": POLL_INTERVAL,
        # what a payment stop holds, and whom the customer should call about it
        "held": view.held,
        "STOP_REQUESTERS": messages.STOP_REQUESTERS,
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
