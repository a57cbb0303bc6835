"""`agora serve` and `agora demo`: the HTTP service, alone or with the demo's data and local Stripe."""

from __future__ import annotations

import click
import msgspec

from market.app.cli.common import database_url, host_and_port, reachable_base, run, with_pool
from market.core.settings import Settings


@click.command()
@host_and_port
@click.pass_obj
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Processes serving HTTP [AGORA_WORKERS, 1]."
)
def serve(settings: Settings, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the HTTP service (migrating the database first)."""
    if workers is not None:
        settings = msgspec.structs.replace(settings, workers=workers)
    serve_http(settings, host, port)


@click.command()
@host_and_port
@click.option("--seed-only", is_flag=True, help="Load the demo data and exit instead of serving.")
@click.pass_obj
def demo(settings: Settings, host: str | None, port: int | None, seed_only: bool) -> None:
    """Create demo sellers with a multi-category catalog, then serve, taking payments in Stripe test mode.

    Without AGORA_STRIPE_SECRET_KEY, payments go to a local Stripe started for the demo (the project's
    devtools/stripe_local, with its own test payment page), which keeps its state in the data dir; its
    webhooks come back to this server.
    """
    from market.app.demo import describe_accounts, open_payout_accounts, seed_demo
    from market.app.demo_images import image_base
    from market.app.local_stripe import STATE_FILE, LocalStripeUnavailable, start_local_stripe
    from payments.gateway import StripeGateway

    settings = msgspec.structs.replace(
        settings, host=host or settings.host, port=settings.port if port is None else port
    )
    url = database_url(settings)
    images = image_base(settings.public_url or reachable_base(settings))  # this server draws and serves them
    accounts = run(
        with_pool(
            settings,
            url,
            lambda pool: seed_demo(pool, settings.data_dir, progress=True, image_base=images),
            migrate=True,
        )
    )
    click.echo(describe_accounts(accounts, settings.data_dir))
    if seed_only:
        return
    local = None
    if not settings.stripe_secret_key:
        try:
            local = start_local_stripe(state_file=settings.data_dir / STATE_FILE)
        except LocalStripeUnavailable as exc:
            click.echo(f"Payments are off: {exc}")
        else:
            settings = local.settings_for(settings)
            local.deliver_webhooks_to(f"{reachable_base(settings)}/v1/stripe/webhook")
            click.echo(f"Stripe (test mode): a local server at {local.url}, with its own test payment page")
    try:
        gateway = StripeGateway.from_settings(settings)
        if gateway is not None:
            opened = run(
                with_pool(
                    settings,
                    url,
                    lambda pool: open_payout_accounts(
                        pool, gateway, accounts, fresh_stripe=local is not None and not local.resumed
                    ),
                )
            )
            click.echo(f"Payout accounts (Stripe Connect) for the demo sellers: {', '.join(opened)}")
        serve_http(settings, None, None, url)
    finally:
        if local is not None:
            local.stop()


def serve_http(settings: Settings, host: str | None, port: int | None, url: str | None = None) -> None:
    import uvicorn

    from market.app.asgi import create_app

    host = host or settings.host
    port = settings.port if port is None else port
    url = url or database_url(settings)
    click.echo(f"Agora on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    click.echo(
        f"Dashboards: http://{host}:{port}/operator (operator token), http://{host}:{port}/seller (seller key)"
    )
    if not settings.operator_token:
        click.echo(f"Operator token: in {settings.operator_token_file}")
    if settings.workers > 1:
        from market.app.workers import serve_workers

        click.echo(f"{settings.workers} worker processes")
        serve_workers(settings, url, host, port)
        return
    from market.core.db import embedded_pgdata

    app = create_app(settings, url, show_progress=True, embedded_pgdata=embedded_pgdata(settings))
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level)
