"""Hostile input: schemathesis over the whole published OpenAPI document, in process
(the ASGI app, no network), with a customer's token on the customer endpoints and an
admin's on ``/v1/admin``; every answer must be below 500 and must match what the document
says (status, content type, headers, body schema; negative data must be refused).

``run_schemathesis`` takes any app, so the tests run it over in-memory fakes and the
``hostile`` selftest scenario over the simulators (real HTTP adapters)."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Unsatisfiable

from giftcash.selftest.registry import Context, Row


@dataclass
class SchemaReport:
    operations: int = 0
    cases: int = 0
    server_errors: int = 0  # answers >= 500
    contract_breaks: int = 0  # answers that break the document (not counting 5xx)
    by_kind: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)  # first failure of each kind

    @property
    def notes(self) -> list[str]:
        out = [f"{self.cases} schemathesis cases over {self.operations} operations"]
        for kind, n in self.by_kind.most_common(10):
            out.append(f"{n}x {kind}")
        out += [f"example: {text}" for text in list(self.examples.values())[:3]]
        return out


def _checks(negative: bool) -> list[Callable[..., Any]]:
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]
    return [*checks, negative_data_rejection] if negative else checks


def run_schemathesis(
    app: Any,
    headers_for: Callable[[str], dict[str, str]],
    *,
    max_examples: int,
    seed: int,
    openapi_path: str = "/v1/openapi.json",
    known_ids: Mapping[str, Sequence[str]] | None = None,
) -> SchemaReport:
    """``headers_for(path)``: the headers (the bearer token) a request to ``path`` gets.
    Each operation is tried with data that fits the document (positive) and with data
    that breaks it (negative, where the operation has something to break).
    ``known_ids``: real ids by path parameter name (and ``account_id`` for a body's
    ``bank_account_id``), used in about half the positive cases so they reach past 404."""
    import schemathesis
    from schemathesis import GenerationMode

    schemas = {
        GenerationMode.POSITIVE: schemathesis.openapi.from_asgi(openapi_path, app),
        GenerationMode.NEGATIVE: schemathesis.openapi.from_asgi(openapi_path, app),
    }
    if known_ids:
        # only where the data is meant to be valid: a real id in a negative case could
        # turn it into a valid one, which the API then rightly accepts
        _use_known_ids(schemas[GenerationMode.POSITIVE], known_ids)
    report = SchemaReport()
    rng = random.Random(seed)
    for result in schemas[GenerationMode.NEGATIVE].get_all_operations():
        operation = result.ok()
        report.operations += 1
        modes = [GenerationMode.POSITIVE]
        if _can_be_broken(operation.definition.raw):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            strategy = _operation(schemas[mode], operation).as_strategy(mode)
            attempt = _Attempt(
                report,
                operation.label,
                headers_for,
                _checks(mode is GenerationMode.NEGATIVE),
                set(operation.definition.raw.get("responses", {})),
            )
            test = hypothesis_seed(rng.randrange(2**32))(
                settings(
                    max_examples=max_examples,
                    deadline=None,
                    database=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )(given(strategy)(attempt.as_function()))
            )
            try:
                test()
            except Unsatisfiable:  # nothing in the operation could be made invalid
                pass
    return report


@dataclass
class _Attempt:
    """One case: call, then count a 5xx or the document's failed checks (never raise,
    so every case of the budget runs)."""

    report: SchemaReport
    label: str
    headers_for: Callable[[str], dict[str, str]]
    checks: list[Callable[..., Any]]
    documented: set[str]  # the operation's documented statuses

    def as_function(self) -> Callable[[Any], None]:
        def attempt(case: Any) -> None:
            self(case)

        return attempt

    def __call__(self, case: Any) -> None:
        from schemathesis.core.failures import Failure, FailureGroup

        report = self.report
        report.cases += 1
        try:
            response = case.call(headers=self.headers_for(case.path))
        except Exception as e:  # the in-process client re-raises what would be a 500
            kind = f"{self.label}: unhandled {type(e).__name__}"
            report.server_errors += 1
            report.by_kind[kind] += 1
            report.examples.setdefault(kind, f"{kind}: {str(e)[:300]}")
            return
        # a 5xx the document names for this operation (``/readyz``'s 503) is its contract
        if response.status_code >= 500 and str(response.status_code) not in self.documented:
            report.server_errors += 1
            kind = f"{self.label}: {response.status_code}"
            report.by_kind[kind] += 1
            report.examples.setdefault(kind, f"{kind}: {response.text[:300]}")
            return
        try:
            case.validate_response(response, checks=self.checks)
        except (Failure, FailureGroup) as e:
            report.contract_breaks += 1
            for failure in getattr(e, "exceptions", [e]):
                kind = f"{self.label}: {getattr(failure, 'title', type(failure).__name__)}"
                report.by_kind[kind] += 1
                report.examples.setdefault(kind, f"{kind}: {str(failure)[:400]}")


BODY_IDS = {"bank_account_id": "account_id", "brand_id": "brand_id"}


def _operation(schema: Any, like: Any) -> Any:
    return schema[like.path][like.method.upper()]


def _use_known_ids(schema: Any, known: Mapping[str, Sequence[str]]) -> None:
    from hypothesis import strategies as st

    def flatmap_case(context: Any, case: Any) -> Any:
        path = [n for n in case.path_parameters or {} if known.get(n)]
        fields = case.body if isinstance(case.body, dict) else {}
        body = [n for n, kind in BODY_IDS.items() if n in fields and known.get(kind)]
        if not path and not body:
            return st.just(case)
        choices = {("path", n): st.sampled_from(list(known[n])) for n in path}
        choices |= {("body", n): st.sampled_from(list(known[BODY_IDS[n]])) for n in body}

        def use(ids: dict[tuple[str, str], str]) -> Any:
            for (where, n), value in ids.items():
                (case.path_parameters if where == "path" else case.body)[n] = value
            return case

        return st.one_of(st.just(case), st.fixed_dictionaries(choices).map(use))

    schema.hook(flatmap_case)


_CONSTRAINTS = ("maxLength", "minLength", "pattern", "enum", "format", "minimum", "maximum")


def _can_be_broken(raw: dict[str, Any]) -> bool:
    """Negative data needs a body or a constrained path or query parameter to break (a
    free-text string cannot be made invalid, and trying burns seconds)."""

    def constrained(param: dict[str, Any]) -> bool:
        schema = param.get("schema", {})
        options = schema.get("anyOf", [schema])
        return any(
            o.get("type", "string") != "string" or set(o) & set(_CONSTRAINTS) for o in options
        )

    params = [p for p in raw.get("parameters", []) if p.get("in") in ("path", "query")]
    return "requestBody" in raw or any(constrained(p) for p in params)


# -- the selftest scenario ----------------------------------------------------------------


@dataclass(frozen=True)
class HostilePlan:
    max_examples: int = 8


def _operator_headers(deps: Any) -> dict[str, str]:
    from giftcash.identity import operators

    secret = pyotp.random_base32()
    password = "selftest operator password"  # noqa: S105 - a throwaway of one run
    operators.create_operator(
        deps, username="selftest-admin", password=password, role="admin", totp_secret=secret
    )
    token = operators.issue_token(
        deps, username="selftest-admin", password=password, totp=pyotp.TOTP(secret).now()
    )
    return {"Authorization": f"Bearer {token.access_token}"}


def known_ids(deps: Any, customer_id: str, account_id: str, submission_id: str) -> dict:
    """Real ids of one customer's resources and of the catalogue, by parameter name."""
    from giftcash.adapters.webhooks import signing
    from giftcash.catalogue import live as catalogue
    from giftcash.catalogue import overrides
    from giftcash.intake import submissions
    from giftcash.webhooks import delivery as webhooks

    items = submissions.get_submission(deps, customer_id, submission_id).items
    hook = webhooks.add_endpoint(
        deps,
        signing,
        customer_id,
        "https://hooks.example.com/giftcash",
        ["*"],
        allow_loopback=False,
    )
    return {
        "account_id": [account_id],
        "submission_id": [submission_id],
        "item_id": [i.id for i in items],
        "endpoint_id": [hook.id],
        "brand_id": [b.id for b in deps.brand_catalogue],
        "issuer": list(catalogue.known_issuers(deps)),
        "rule_id": [r.id for r in overrides.list_rules(deps)],
    }


def body_limit_probes(client: Any, limit: int) -> list[int]:
    """Statuses of a body one byte over ``limit``, declared and chunked (both must be 413)."""
    big = b'{"phone": "' + b"0" * limit + b'"}'

    def chunks() -> Any:
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    headers = {"content-type": "application/json"}
    return [
        client.post("/v1/tokens", content=big, headers=headers).status_code,
        client.post("/v1/tokens", content=chunks(), headers=headers).status_code,
    ]


def run_hostile(ctx: Context, plan: HostilePlan = HostilePlan()) -> tuple[Row, SchemaReport]:
    from fastapi.testclient import TestClient

    from giftcash.bootstrap import build_deps, make_engine_from_settings
    from giftcash.entrypoints.api.app import MAX_BODY_BYTES, create_app
    from giftcash.identity import customers
    from giftcash.intake import submissions
    from giftcash.selftest.races import phone_of
    from giftcash.selftest.stack import (
        PASSWORD,
        Simulators,
        buy,
        make_customer,
        provision,
        settings_for,
    )

    began = time.monotonic()
    root = Path(ctx.workdir)
    root.mkdir(parents=True, exist_ok=True)
    sims = Simulators(root)
    db = None
    try:
        db = provision(ctx.database_url, root)
        settings = settings_for(db, sims, root / "data")
        engine = make_engine_from_settings(settings)
        deps = build_deps(settings, engine=engine, fast_passwords=True)
        who = make_customer(deps, sims, 1)  # a verified account
        token = customers.issue_token(deps, phone=phone_of(1), password=PASSWORD)
        vouchers = buy(sims, "cultureland", 5_000, 2)
        view = submissions.submit(
            deps,
            who.id,
            bank_account_id=who.account_id,
            items=[
                submissions.ItemIn("cultureland", v["code"], v["face_value"], "cash", v["pin"])
                for v in vouchers
            ],
        )
        ids = known_ids(deps, who.id, who.account_id, view.submission.id)
        customer = {"Authorization": f"Bearer {token}"}
        operator = _operator_headers(deps)
        app = create_app(deps)
        ctx.progress(f"hostile: schemathesis, {plan.max_examples} examples per operation and mode")
        report = run_schemathesis(
            app,
            lambda path: (
                operator if path.startswith(("/v1/admin", "/v1/payment-stops")) else customer
            ),
            max_examples=plan.max_examples,
            seed=ctx.seed,
            known_ids=ids,
        )
        with TestClient(app, raise_server_exceptions=False) as client:
            probes = body_limit_probes(client, MAX_BODY_BYTES)
        engine.dispose()
    finally:
        sims.stop()
        if db is not None:
            db.drop()
    oversize = sum(s != 413 for s in probes)
    row = Row(
        f"hostile ({ctx.backend})",
        items=report.cases + len(probes),
        server_errors=report.server_errors + sum(s >= 500 for s in probes),
        invariant_breaks=report.contract_breaks + oversize,
        seconds=time.monotonic() - began,
        notes=[
            f"seed {ctx.seed}",
            *report.notes,
            f"bodies over 1 MiB (declared, chunked) answered {probes}",
        ],
    )
    return row, report
