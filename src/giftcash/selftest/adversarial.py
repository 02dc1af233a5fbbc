"""The adversarial scenarios of ``giftcash selftest``: races, hostile input (schemathesis
over the whole API) and a scan for leaked secrets; a quick size for CI and a larger one
for ``--long`` runs."""

from __future__ import annotations

from giftcash.selftest.abuse import AbusePlan, run_abuse
from giftcash.selftest.hostile import HostilePlan, run_hostile
from giftcash.selftest.races import RacePlan, run_races
from giftcash.selftest.registry import Context, Row, scenario
from giftcash.selftest.secrets_scan import SecretsPlan, run_secrets
from giftcash.selftest.stops import StopPlan, run_stops

QUICK_RACES = RacePlan()
LONG_RACES = RacePlan(replays=40, payout_workers=6, payout_items=24, payout_waves=6)
QUICK_HOSTILE = HostilePlan(max_examples=8)
LONG_HOSTILE = HostilePlan(max_examples=40)
QUICK_SECRETS = SecretsPlan()
LONG_SECRETS = SecretsPlan(customers=6, vouchers_per_customer=6)


@scenario("races", order=40)
def races(ctx: Context) -> Row:
    """One code sold by 50 customers at once; replays of one Idempotency-Key; workers
    paying one customer while the bank misbehaves."""
    return run_races(ctx, LONG_RACES if ctx.long else QUICK_RACES)[0]


@scenario("hostile", order=50)
def hostile(ctx: Context) -> Row:
    """schemathesis over every operation of the OpenAPI document; bodies over 1 MiB."""
    return run_hostile(ctx, LONG_HOSTILE if ctx.long else QUICK_HOSTILE)[0]


@scenario("secrets", order=60)
def secrets(ctx: Context) -> Row:
    """No code, PIN, token or password in the database, the logs or any answer."""
    return run_secrets(ctx, LONG_SECRETS if ctx.long else QUICK_SECRETS)[0]


@scenario("abuse", order=55)
def abuse(ctx: Context) -> Row:
    """SMS pumping, account aggregation, phone enumeration and SSRF against the API and
    the simulators: what was tried, refused and what it cost."""
    return run_abuse(ctx, AbusePlan(burst=60) if ctx.long else AbusePlan())[0]


@scenario("stops", order=45)
def stops(ctx: Context) -> Row:
    """Payment stops by account, customer and code filed while items are in flight, one
    naming an unknown account, stops and releases racing workers: nothing in a stopped
    set redeemed or paid while stopped (the simulators' records), each set traced, a
    release paying once."""
    return run_stops(ctx, StopPlan(race_cycles=12) if ctx.long else StopPlan())[0]
