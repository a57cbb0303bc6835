"""`agora eval assistant --set NAME`: the hand-written shopper dialogues through the assistant.

The sets are `market/assistant/dialogues/shoppers/*.json` (one file per class),
`market/assistant/dialogues/shoppers_holdout/dialogues.json`, `shoppers_fresh/` to `shoppers_fresh21/` (each
written later, by a tester who saw neither the assistant's code nor its answers); their format and every check are specified in
`market/assistant/dialogues/shoppers/FORMAT.md`. Each dialogue is one conversation with the app, over its
HTTP API only (the assistant is a black box): per turn the answer of `POST /v1/conversations/{id}/messages`
(reply, product cards, checkout), the conversation's cart through `GET /v1/conversations/{id}` (its
`cart_id`) and `GET /v1/carts/{cart_id}`, and the turn's tool results from the same transcript (what a reply
may quote). Product facts come from the catalog through `sellers.catalog`, read-only. The checks themselves
are `dialogue_checks` and `fact_checks`, pure functions.

A dialogue succeeds when every check of every turn holds, the check that nothing was invented included.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from tqdm import tqdm

from market.app.assistant_eval import percentile
from market.app.dialogue_checks import (
    DialogueContext,
    ObservedTurn,
    ProductFacts,
    attribute_vocabulary,
    run_checks,
)
from market.app.exchange_rates import ExchangeRates
from market.app.fact_checks import turn_hallucinations

# set -> folder under dialogues/
SHOPPER_SETS = {
    "shoppers": "shoppers",
    "holdout": "shoppers_holdout",
    "fresh": "shoppers_fresh",
    "fresh2": "shoppers_fresh2",
    "fresh3": "shoppers_fresh3",
    "fresh4": "shoppers_fresh4",
    "fresh5": "shoppers_fresh5",
    "fresh6": "shoppers_fresh6",
    "fresh7": "shoppers_fresh7",
    "fresh8": "shoppers_fresh8",
    "fresh9": "shoppers_fresh9",
    "fresh10": "shoppers_fresh10",
    "fresh11": "shoppers_fresh11",
    "fresh12": "shoppers_fresh12",
    "fresh13": "shoppers_fresh13",
    "fresh14": "shoppers_fresh14",
    "fresh15": "shoppers_fresh15",
    "fresh16": "shoppers_fresh16",
    "fresh17": "shoppers_fresh17",
    "fresh18": "shoppers_fresh18",
    "fresh19": "shoppers_fresh19",
    "fresh20": "shoppers_fresh20",
    "fresh21": "shoppers_fresh21",
}


def load_set(name: str) -> list[dict[str, Any]]:
    """The dialogues of a shopper set, round-robin over their classes (the first N cover the classes)."""
    folder = files("market.assistant").joinpath("dialogues", SHOPPER_SETS[name])
    dialogues: list[dict[str, Any]] = []
    for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if entry.name.endswith(".json"):
            dialogues.extend(json.loads(entry.read_text(encoding="utf-8")))
    for dialogue in dialogues:
        if not {"id", "class", "turns"} <= dialogue.keys() or not all(
            isinstance(turn.get("say"), str) and isinstance(turn.get("expect"), list)
            for turn in dialogue["turns"]
        ):
            raise ValueError(
                f"dialogue {dialogue.get('id', '?')} lacks id, class, or turns of say and expect"
            )
    return interleaved(dialogues)


def interleaved(dialogues: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    by_class: dict[str, list[dict[str, Any]]] = {}
    for dialogue in dialogues:
        by_class.setdefault(dialogue["class"], []).append(dialogue)
    rounds = max((len(group) for group in by_class.values()), default=0)
    return [group[i] for i in range(rounds) for group in by_class.values() if i < len(group)]


async def load_catalog(pool: Any) -> dict[int, ProductFacts]:
    """The facts of every product shoppers may find, through the sellers' service function (read-only)."""
    from sellers.accounts import policies
    from sellers.catalog import all_searchable_products

    catalog, products = {}, []
    async for page in all_searchable_products(pool):
        products += page
    said = await policies(pool, list({product.seller_id for product in products}))
    for product in products:
        policy = said.get(product.seller_id)
        catalog[product.product_id] = ProductFacts(
            product_id=product.product_id,
            title=product.title,
            brand=product.brand,
            category=product.category,
            price_amount=product.price.amount,
            currency=product.price.currency,
            attributes=dict(product.attributes),
            ships_to=tuple(policy.ships_to) if policy else (),
        )
    return catalog


@dataclass
class DialogueOutcome:
    dialogue: str
    kind: str  # the dialogue's class
    turns: int = 0
    latencies: list[float] = field(default_factory=list)
    checks: list[tuple[str, bool]] = field(default_factory=list)  # (kind, held)
    failures: list[dict[str, Any]] = field(default_factory=list)
    hallucinations: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None and all(held for _, held in self.checks)


async def run_shopper_set(
    client: Any,
    name: str,
    dialogues: Sequence[Mapping[str, Any]],
    catalog: Mapping[int, ProductFacts],
    *,
    rates: ExchangeRates | None = None,
    progress: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Play `dialogues` against the app behind `client`: its summary, and every failed check (records)."""
    rates = rates or ExchangeRates.demo()
    vocabulary = attribute_vocabulary(catalog.values())
    outcomes = []
    for dialogue in tqdm(dialogues, desc=name, unit="dialogue", disable=not progress, file=sys.stderr):
        context = DialogueContext(catalog=catalog, rates=rates, vocabulary=vocabulary)
        outcomes.append(await run_dialogue(client, dialogue, context))
    state = getattr(getattr(client, "app", None), "state", None)
    backend = getattr(getattr(state, "assistant_backend", None), "name", "?")
    failures = [failure | {"set": name} for outcome in outcomes for failure in outcome.failures]
    return summarize(name, outcomes, backend), failures


async def run_dialogue(client: Any, dialogue: Mapping[str, Any], context: DialogueContext) -> DialogueOutcome:
    outcome = DialogueOutcome(dialogue["id"], dialogue["class"])
    started = await client.post("/v1/conversations", json={})
    started.raise_for_status()
    conversation = started.json()["conversation_id"]
    cart_view: Any = None
    said: list[str] = []
    facts: list[Any] = []
    for number, step in enumerate(dialogue["turns"], start=1):
        said.append(step["say"])
        began = time.perf_counter()
        answered = await client.post(f"/v1/conversations/{conversation}/messages", json={"text": step["say"]})
        outcome.latencies.append((time.perf_counter() - began) * 1000)
        outcome.turns += 1
        if answered.status_code != 200:
            outcome.error = f"turn {number}: HTTP {answered.status_code} {answered.text[:300]}"
            outcome.failures.append(_record(dialogue, number, step, "error", None, outcome.error, None, {}))
            return outcome
        answer = answered.json()
        transcript = (await client.get(f"/v1/conversations/{conversation}")).json()
        stored = (transcript.get("turns") or [{}])[-1]
        results = [call.get("result") or {} for call in stored.get("tool_calls") or []]
        before = cart_lines(cart_view)
        cart_view = await _cart(client, transcript.get("cart_id"), answer.get("cart"), cart_view)
        cards = sorted(answer.get("products") or [], key=lambda card: card.get("position", 0))
        turn = ObservedTurn(
            number=number,
            say=step["say"],
            reply=answer.get("reply", ""),
            cards=cards,
            cart_before=before,
            cart_after=cart_lines(cart_view),
            checkout_started=answer.get("checkout") is not None,
        )
        if cards:
            context.lists[number] = cards
        for kind, spec, reason in run_checks(step["expect"], turn, context):
            outcome.checks.append((kind, reason is None))
            if reason is not None:
                outcome.failures.append(_record(dialogue, number, step, kind, spec, reason, turn, cart_view))
        invented = turn_hallucinations(
            turn, context, step["expect"], cart=cart_view, results=results, said=said, facts=facts
        )
        outcome.checks.append(("hallucination", not invented))
        outcome.hallucinations += invented
        for problem in invented:
            outcome.failures.append(
                _record(dialogue, number, step, "hallucination", None, problem, turn, cart_view)
            )
        facts.extend(results)
    return outcome


async def _cart(client: Any, cart_id: Any, answered: Any, last: Any) -> Any:
    """The conversation's cart now: `GET /v1/carts/{id}` when the conversation has one, else the cart of the
    answer (when it changed), else the last one seen."""
    if cart_id:
        shown = await client.get(f"/v1/carts/{cart_id}")
        if shown.status_code == 200:
            return shown.json()
    return answered if answered is not None else last


def cart_lines(cart: Any) -> dict[int, int]:
    """Product id -> quantity of a cart view (`GET /v1/carts/{id}`: lines grouped per seller)."""
    if not cart:
        return {}
    return {
        line["product_id"]: line["quantity"] for group in cart.get("sellers", []) for line in group["lines"]
    }


def _record(
    dialogue: Mapping[str, Any],
    number: int,
    step: Mapping[str, Any],
    kind: str,
    spec: Any,
    reason: str,
    turn: ObservedTurn | None,
    cart: Any,
) -> dict[str, Any]:
    """One failed check, with what a developer needs to read what went wrong."""
    return {
        "dialogue": dialogue["id"],
        "class": dialogue["class"],
        "turn": number,
        "check": kind,
        "expect": spec,
        "reason": reason,
        "say": step["say"],
        "reply": turn.reply if turn else None,
        "products": [
            {key: card.get(key) for key in ("position", "product_id", "title", "price")}
            for card in (turn.cards if turn else [])
        ],
        "cart": {str(pid): quantity for pid, quantity in cart_lines(cart).items()},
    }


# --- the numbers -------------------------------------------------------------------------------------------


def summarize(name: str, outcomes: Sequence[DialogueOutcome], backend: str) -> dict[str, Any]:
    by_class: dict[str, list[bool]] = {}
    for outcome in outcomes:
        by_class.setdefault(outcome.kind, []).append(outcome.succeeded)
    run, failed = Counter[str](), Counter[str]()
    for outcome in outcomes:
        for kind, held in outcome.checks:
            run[kind] += 1
            failed[kind] += not held
    latencies = [latency for outcome in outcomes for latency in outcome.latencies]
    succeeded = sum(outcome.succeeded for outcome in outcomes)
    return {
        "set": name,
        "backend": backend,
        "dialogues": len(outcomes),
        "turns": sum(outcome.turns for outcome in outcomes),
        "succeeded": succeeded,
        "task_success": succeeded / len(outcomes) if outcomes else 0.0,
        "by_class": {
            kind: {
                "dialogues": len(results),
                "succeeded": sum(results),
                "task_success": sum(results) / len(results),
            }
            for kind, results in by_class.items()
        },
        "checks": {kind: {"run": run[kind], "failed": failed[kind]} for kind in sorted(run)},
        "hallucinations": sum(len(outcome.hallucinations) for outcome in outcomes),
        "hallucination_details": [h for outcome in outcomes for h in outcome.hallucinations][:20],
        "errors": [outcome.error for outcome in outcomes if outcome.error][:20],
        "latency_ms": {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95)},
    }


def format_table(summary: Mapping[str, Any]) -> str:
    def share(done: int, of: int) -> str:
        return f"{100 * done / of:5.1f}%  ({done}/{of})" if of else "-"

    rows = [
        (f"set {summary['set']}", summary["backend"]),
        ("dialogues / turns", f"{summary['dialogues']} / {summary['turns']}"),
        ("task success", share(summary["succeeded"], summary["dialogues"])),
        *((f"  {kind}", share(c["succeeded"], c["dialogues"])) for kind, c in summary["by_class"].items()),
        ("failed checks (failed/run)", ""),
        *((f"  {kind}", f"{c['failed']} / {c['run']}") for kind, c in summary["checks"].items()),
        ("hallucinations", str(summary["hallucinations"])),
        ("errors", str(len(summary["errors"]))),
        ("payments", summary.get("payments", "?")),
        ("turn latency p50", f"{summary['latency_ms']['p50'] or 0:.0f} ms"),
        ("turn latency p95", f"{summary['latency_ms']['p95'] or 0:.0f} ms"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}".rstrip() for name, value in rows)


# --- every set asked for, on one app ------------------------------------------------------------------------

SETS = ("generated", *SHOPPER_SETS)


async def evaluate_sets(
    settings: Any,
    names: Sequence[str],
    *,
    limit: int | None = None,
    only: Sequence[str] = (),
    generated: Sequence[Mapping[str, Any]] | None = None,
    progress: bool = False,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Each set in `names` (of SETS), its first `limit` dialogues, against one fresh app in process
    (`eval_app.app_in_process`): the results by set, and the shopper sets' failed checks. `only`: id
    prefixes of the shopper dialogues to run. `generated`: the generated set's dialogues (default: the
    shipped ones)."""
    from market.app.assistant_eval import run_dialogues
    from market.app.eval_app import app_in_process
    from market.core import db

    shopper_sets = {
        name: [dialogue for dialogue in load_set(name) if not only or dialogue["id"].startswith(tuple(only))][
            :limit
        ]
        for name in names
        if name in SHOPPER_SETS
    }
    if "generated" in names and generated is None:
        from market.assistant import dialogues

        generated = dialogues.load()
    results: dict[str, dict[str, Any]] = {}
    failures: list[dict[str, Any]] = []
    async with app_in_process(settings, progress=progress) as app:
        client, catalog = app.client, {}
        if shopper_sets:
            pool = await db.create_pool(app.database_url, app.settings)
            try:
                catalog = await load_catalog(pool)
            finally:
                await pool.close()
        for name in names:
            if name == "generated":
                results[name] = await run_dialogues(client, list(generated or [])[:limit], progress=progress)
            else:
                results[name], failed = await run_shopper_set(
                    client, name, shopper_sets[name], catalog, progress=progress
                )
                failures += failed
            results[name]["payments"] = app.payments
    return results, failures
