"""The crash, fault, identity-fault and resale scenarios of ``giftcash selftest``: a quick
size for CI and a larger one for ``--long`` runs."""

from __future__ import annotations

import dataclasses

from giftcash.selftest.crash import CrashPlan, run_crash
from giftcash.selftest.demo_crash import DemoPlan, run_demo_crash
from giftcash.selftest.faults import FaultPlan, run_faults
from giftcash.selftest.identity_faults import IdentityPlan, run_identity
from giftcash.selftest.purge_crash import PurgeCrashPlan, run_purge_crash
from giftcash.selftest.registry import Context, Row, scenario
from giftcash.selftest.resale import ResalePlan, run_resale

QUICK_CRASH = CrashPlan(items=120, max_kills=25, kill_phase_s=25.0)
LONG_CRASH = CrashPlan(items=480, max_kills=120, kill_phase_s=120.0, settle_s=90.0)
QUICK_FAULTS = FaultPlan(items=240)
LONG_FAULTS = FaultPlan(items=1200, settle_s=300.0, batch=128, concurrency=64, per_issuer=32)
QUICK_IDENTITY = IdentityPlan()
LONG_IDENTITY = IdentityPlan(people=40)
QUICK_DEMO = DemoPlan(cycles=2)
LONG_DEMO = DemoPlan(cycles=4)


@scenario("crash", order=10)
def crash(ctx: Context) -> Row:
    """Worker processes killed with SIGKILL at random moments over one batch."""
    return run_crash(ctx, LONG_CRASH if ctx.long else QUICK_CRASH)[0]


@scenario("faults", order=20)
def faults(ctx: Context) -> Row:
    """Issuer and bank failing 25% of calls in every way they can."""
    return run_faults(ctx, LONG_FAULTS if ctx.long else QUICK_FAULTS)[0]


@scenario("identity", order=25)
def identity(ctx: Context) -> Row:
    """The identity provider timing out, losing answers and answering twice while
    people sign up, each also with a second phone: one customer per person."""
    return run_identity(ctx, LONG_IDENTITY if ctx.long else QUICK_IDENTITY)[0]


@scenario("demo-crash", order=30)
def demo_crash(ctx: Context) -> Row:
    """``giftcash demo`` killed mid-batch and started again on its data directory."""
    return run_demo_crash(ctx, LONG_DEMO if ctx.long else QUICK_DEMO)[0]


@scenario("purge-crash", order=35)
def purge_crash(ctx: Context) -> Row:
    """``giftcash privacy purge`` killed with SIGKILL mid-run and run again: the old
    customers forgotten, nobody else touched, the books and the audit chain intact."""
    plan = PurgeCrashPlan(old=2000, max_kills=30) if ctx.long else PurgeCrashPlan()
    return run_purge_crash(ctx, plan)


QUICK_RESALE = ResalePlan()
LONG_RESALE = ResalePlan(units=60, buyers=24, orders=90, threads=16, settle_s=120.0)


@scenario("resale-crash", order=40)
def resale_crash(ctx: Context) -> Row:
    """Buyers ordering the last units at once and paying (exactly, twice, in another
    name, short), while the worker that delivers, refunds and returns is SIGKILLed."""
    plan = LONG_RESALE if ctx.long else QUICK_RESALE
    plan = dataclasses.replace(plan, crash=True, max_kills=40 if ctx.long else 12)
    return run_resale(ctx, plan)[0]


@scenario("resale-faults", order=45)
def resale_faults(ctx: Context) -> Row:
    """The bank losing, repeating and reordering its deposit notifications and failing
    its virtual-account calls (returns included); the issuer timing out on the
    pre-delivery check."""
    return run_resale(ctx, LONG_RESALE if ctx.long else QUICK_RESALE)[0]
