"""`agora report`: the market's headline numbers and funnel for a date range, in the terminal.

It reads the same figures as GET /v1/operator/metrics/summary (market.metrics.figures), straight from the
database, so an operator on the server needs neither the API nor the operator token, and the numbers on the
screen are the API's to the unit. Money is shown in major units of each currency (babel knows that USD
has two decimals and JPY none); `--json` prints the API's own payload, in minor units.
"""

from __future__ import annotations

from decimal import Decimal

import click
import msgspec

from market.app.cli.common import database_url, run, with_pool
from market.core.settings import Settings
from market.metrics.schemas import Funnel, MarketSummary, MoneyFigures, SearchQuality


@click.command()
@click.option(
    "--since", help="Start, an ISO date or datetime (UTC unless it says otherwise). Default: until - 28 days."
)
@click.option("--until", help="End, excluded; a date alone is that day's 00:00 UTC. Default: now.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (money in minor units).")
@click.pass_obj
def report(settings: Settings, since: str | None, until: str | None, as_json: bool) -> None:
    """The market's money, funnel and search quality over a period, from the ledger and the event log."""
    from market.metrics import figures
    from market.metrics.period import parse_period

    period = run(_parsed(parse_period, since, until))
    summary = run(with_pool(settings, database_url(settings), lambda pool: figures.summary(pool, period)))
    if as_json:
        click.echo(msgspec.json.encode(summary).decode())
    else:
        click.echo(render(summary))


async def _parsed(parse, since, until):
    # Inside run, so that a bad date is reported like any other DomainError: one line, exit status 1.
    return parse(since, until)


def render(summary: MarketSummary) -> str:
    """The summary as three plain-text tables: money per currency, the funnel, search quality."""
    period = summary.period
    lines = [f"Agora, {period.since:%Y-%m-%d %H:%M} to {period.until:%Y-%m-%d %H:%M} UTC", ""]
    lines += _money_table(summary.figures.money)
    lines += ["", *_funnel_table(summary.figures.funnel), "", *_search_lines(summary.figures.search)]
    return "\n".join(lines)


def _money_table(money: list[MoneyFigures]) -> list[str]:
    if not money:
        return ["Money: nothing charged or refunded in this period."]
    rows: list[tuple[str, ...]] = [("", *(m.currency for m in money))]
    rows += [
        ("GMV", *(_amount(m.gmv, m.currency) for m in money)),
        ("Refunded", *(_amount(m.refunded, m.currency) for m in money)),
        ("Revenue (fees)", *(_amount(m.revenue, m.currency) for m in money)),
        ("Take rate", *(_percent(m.take_rate) for m in money)),
        ("Orders", *(str(m.orders) for m in money)),
        ("Average order", *(_amount(m.average_order_value, m.currency) for m in money)),
        ("Refund rate", *(_percent(m.refund_rate) for m in money)),
    ]
    return _table(rows)


def _funnel_table(funnel: Funnel) -> list[str]:
    stages = [
        ("Sessions", funnel.sessions),
        ("Searched", funnel.searched),
        ("Clicked", funnel.clicked),
        ("Added to cart", funnel.added_to_cart),
        ("Checkout started", funnel.checkout_started),
        ("Paid", funnel.paid),
    ]
    rows: list[tuple[str, ...]] = [("Funnel", "sessions", "of all")]
    rows += [
        (name, str(count), _percent(count / funnel.sessions if funnel.sessions else None))
        for name, count in stages
    ]
    return _table(rows)


def _search_lines(search: SearchQuality) -> list[str]:
    mrr = "-" if search.mean_reciprocal_rank is None else f"{search.mean_reciprocal_rank:.3f}"
    line = (
        f"Search (first pages): {search.searches} searches, zero results {_percent(search.zero_result_rate)}, "
        f"click-through {_percent(search.click_through_rate)}, mean reciprocal rank {mrr}"
    )
    return [line]


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            [row[0].ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(row[1:], widths[1:]))]
        ).rstrip()
        for row in rows
    ]


def _amount(minor: int | None, currency: str) -> str:
    if minor is None:
        return "-"
    from babel.numbers import format_decimal, get_currency_precision

    # Decimal, not float: minor units scaled by the currency's own exponent.
    digits = get_currency_precision(currency)
    value = Decimal(minor).scaleb(-digits)
    return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""), locale="en_US")


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f} %"
