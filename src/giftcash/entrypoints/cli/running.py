"""``giftcash demo``, ``giftcash serve`` and ``giftcash worker``: the running parts."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

import typer
from rich.table import Table

from giftcash.entrypoints.cli.common import console, err_console, settings_for


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.5)


def demo(
    port: int = typer.Option(8000, help="Port of the API and web site."),
    data_dir: Path = typer.Option(Path("./var"), "--data-dir", help="Where all state lives."),
    host: str = typer.Option("127.0.0.1", help="Loopback address to listen on."),
    issuer_port: int = typer.Option(0, help="Port of the issuer simulator (0: a free one)."),
    bank_port: int = typer.Option(0, help="Port of the bank simulator (0: a free one)."),
    sms_port: int = typer.Option(0, help="Port of the SMS simulator (0: a free one)."),
    identity_port: int = typer.Option(
        0, help="Port of the identity (본인인증) simulator (0: a free one)."
    ),
) -> None:
    """Start the API, web site, worker and simulators on loopback, with demo data."""
    from giftcash.entrypoints.demo import DemoError, SimPorts, start

    logging.basicConfig(level=logging.WARNING)
    with console.status("starting giftcash demo…"):
        try:
            sim_ports = SimPorts(
                issuer=issuer_port, bank=bank_port, sms=sms_port, identity=identity_port
            )
            d = start(data_dir, host=host, port=port, sim_ports=sim_ports)
        except DemoError as e:
            err_console.print(f"[bold red]error[/] {e}")
            raise typer.Exit(1) from None
    info = d.info
    table = Table(title="giftcash demo is running", show_header=False)
    for key in (
        "web_url",
        "api_url",
        "openapi_url",
        "issuer_url",
        "bank_url",
        "sms_url",
        "identity_url",
        "database_url",
    ):
        table.add_row(key, info[key])
    table.add_row(
        "operator",
        f"{info['operator']['username']} / {info['operator']['password']}"
        f" (TOTP secret {info['operator']['totp_secret']})",
    )
    table.add_row("customer", f"{info['customer']['phone']} / {info['customer']['password']}")
    console.print(table)
    console.print(
        f"Everything above is in {Path(info['data_dir']) / 'demo.json'}. Stop with Ctrl-C."
    )
    try:
        _wait_for_signal()
    finally:
        with console.status("stopping…"):
            d.stop()
        console.print("stopped")


def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    workers: int = typer.Option(1, help="uvicorn worker processes"),
) -> None:
    """Serve the API and web site (settings from GIFTCASH_* variables)."""
    import uvicorn

    uvicorn.run(
        "giftcash.entrypoints.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
    )


def worker(
    concurrency: int | None = typer.Option(
        None,
        min=1,
        help="Foreign calls in flight at once (default GIFTCASH_WORKER_CONCURRENCY, 64).",
    ),
    per_issuer: int | None = typer.Option(
        None, min=1, help="Calls in flight per issuer (default GIFTCASH_WORKER_PER_ISSUER, 32)."
    ),
    batch: int | None = typer.Option(
        None, min=1, help="Rows claimed per step (default GIFTCASH_WORKER_BATCH, 64)."
    ),
    issuer_batch: int | None = typer.Option(
        None,
        min=1,
        help=(
            "Items claimed per issuer step (default: --batch when given, else "
            "GIFTCASH_WORKER_ISSUER_BATCH, else 4 x --concurrency, at least the batch)."
        ),
    ),
    worker_id: str | None = typer.Option(None, help="Defaults to host:pid."),
    lease_s: int | None = typer.Option(
        None, "--lease-s", min=1, help="Seconds a claim is held (default GIFTCASH_LEASE_S, 30)."
    ),
    metrics_port: int | None = typer.Option(
        None, "--metrics-port", help="Serve this worker's Prometheus metrics on this port."
    ),
    metrics_host: str = typer.Option("127.0.0.1", help="Address of the metrics port."),
) -> None:
    """Run the pipeline worker until SIGINT or SIGTERM (settings from GIFTCASH_*)."""
    from giftcash.adapters.observability.logs import configure_logging
    from giftcash.adapters.observability.metrics import serve_worker_metrics
    from giftcash.bootstrap import build_deps
    from giftcash.entrypoints.worker import Worker

    settings = settings_for(
        lease_s=lease_s,
        worker_concurrency=concurrency,
        worker_per_issuer=per_issuer,
        worker_batch=batch,
        worker_issuer_batch=issuer_batch or batch,
    )
    configure_logging(settings.log_level, json_lines=settings.log_format == "json")
    if metrics_port is not None:
        serve_worker_metrics(metrics_port, metrics_host)
    deps = build_deps(settings)
    w = Worker(deps)
    if worker_id:
        w.worker_id = worker_id
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print(f"worker {w.worker_id} running (pid {os.getpid()})")
    stats = w.run(stop)
    w.close()
    console.print(f"worker stopped: {stats}")


def simulator(
    kind: str = typer.Argument(..., help="issuer | bank | sms | identity"),
    host: str = typer.Option("127.0.0.1"),
    port: int | None = typer.Option(None, help="default: 8101 | 8102 | 8103 | 8104"),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="default: ./var/sim/KIND"),
    notification_url: str | None = typer.Option(
        None,
        "--notification-url",
        envvar="GIFTCASH_SIM_BANK_NOTIFICATION_URL",
        help=(
            "bank: where virtual-account deposit notifications go (the API's "
            "/v1/bank/notifications), signed with the whsec_ secret in "
            "GIFTCASH_SIM_BANK_NOTIFICATION_SECRET (the environment only: never on a "
            "command line); giftcash's GIFTCASH_BANK_NOTIFICATION_SECRET must be the same"
        ),
    ),
) -> None:
    """Run one simulator on its own (for `serve` + `worker` set-ups and tests)."""
    from giftcash.simulators.__main__ import main as sim_main

    args = [kind, "--host", host]
    if port is not None:
        args += ["--port", str(port)]
    if data_dir is not None:
        args += ["--data-dir", str(data_dir)]
    if notification_url:
        if kind != "bank":
            raise typer.BadParameter("only the bank simulator sends notifications")
        args += ["--notification-url", notification_url]
    sim_main(args)
