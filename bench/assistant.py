"""The shopping assistant on its dialogue sets: the generated regression set, the hand-written shopper set, its
holdout and the fresh sets, per class.

    .venv/bin/python bench/assistant.py [--limit N] [--json FILE]

Runs `agora eval assistant --set all --json` (the app in process, its own throwaway embedded PostgreSQL seeded
with the demo catalog, the configured assistant backend; nothing else is contacted) and prints, as Markdown
tables: per set, dialogues, turns, task success, hallucinations and turn latency p50/p95 (and, for the generated
set, action and slot accuracy); per class of the shopper sets, task success; per check kind, how many failed.
--limit runs the first N dialogues of each set (a shopper set's order goes round its classes); --json also
keeps the raw results.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_eval(limit: int | None) -> dict:
    command = [sys.executable, "-c", "from market.app.cli import main; main()", "eval", "assistant"]
    command += ["--set", "all", "--json", *(["--limit", str(limit)] if limit else [])]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=os.environ | {"HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"agora eval assistant failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def format_results(results: dict) -> str:
    sets = []
    for name, result in results.items():
        latency = result["latency_ms"]
        sets.append(
            [
                name,
                str(result["dialogues"]),
                str(result["turns"]),
                pct(result["task_success"]),
                str(result["hallucinations"]),
                f"{latency['p50'] or 0:.0f} / {latency['p95'] or 0:.0f} ms",
            ]
        )
    out = [table(["set", "dialogues", "turns", "task success", "hallucinations", "latency p50 / p95"], sets)]
    if "generated" in results:
        generated = results["generated"]
        slots = generated["slot_accuracy"]
        out.append(
            f"generated ({generated['backend']}): action accuracy {pct(generated['action_accuracy'])}, slot "
            f"accuracy {pct(slots['overall'])}; task success = the cart meets the hidden need within 3 turns."
        )
    shopper_sets = [name for name in results if name != "generated"]
    if shopper_sets:
        classes = list(dict.fromkeys(k for name in shopper_sets for k in results[name]["by_class"]))
        rows = [
            [kind, *(_share(results[name]["by_class"].get(kind)) for name in shopper_sets)]
            for kind in classes
        ]
        rows.append(["**all**", *(f"**{_share(results[name])}**" for name in shopper_sets)])
        out.append(table(["class", *shopper_sets], rows))
        kinds = sorted({kind for name in shopper_sets for kind in results[name]["checks"]})
        rows = [
            [kind, *(_failed(results[name]["checks"].get(kind)) for name in shopper_sets)] for kind in kinds
        ]
        out.append(table(["failed checks (failed / run)", *shopper_sets], rows))
    return "\n\n".join(out)


def _share(cell: dict | None) -> str:
    return "-" if cell is None else f"{pct(cell['task_success'])} ({cell['succeeded']}/{cell['dialogues']})"


def _failed(cell: dict | None) -> str:
    return "-" if cell is None else f"{cell['failed']} / {cell['run']}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=None, help="the first N dialogues of each set")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    args = parser.parse_args()
    results = run_eval(args.limit)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(format_results(results))


if __name__ == "__main__":
    main()
