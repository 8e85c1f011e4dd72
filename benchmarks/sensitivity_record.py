"""Write benchmarks/records/sensitivity.md from the main job's comparison product.

The record is the product ``results/<analysis>/products/published_comparison.json`` (rule
``published_comparison``: exonu vs the published XMASS-I limits, like with like) rendered as
Markdown with the run's provenance; nothing in it is typed by hand.

    python benchmarks/sensitivity_record.py [--results results/default] \
        [--output benchmarks/records/sensitivity.md]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from exonu.products.comparison import comparison_markdown


def record(results: Path, note: str = "") -> str:
    doc = json.loads((results / "products" / "published_comparison.json").read_text())
    prov_path = results / "products" / "published_comparison.json.prov.json"
    prov = json.loads(prov_path.read_text()) if prov_path.exists() else {}
    git = prov.get("git", {}) if isinstance(prov.get("git"), dict) else {}
    head = [
        "# Sensitivity check: the embedded default vs the published XMASS-I limits",
        "",
        "Written by `benchmarks/sensitivity_record.py` from "
        f"`results/{results.name}/products/published_comparison.json` (rule "
        "`published_comparison` of `make run`); do not edit by hand.",
        "",
        f"- run: commit {git.get('commit', prov.get('commit', 'unknown'))}"
        f"{' (dirty)' if git.get('dirty', prov.get('dirty')) else ''}, "
        f"{prov.get('time_utc', 'time unknown')}",
        *([f"- {note}"] if note else []),
        "- the millicharge gap, variant by variant: [`millicharge_gap.md`](millicharge_gap.md); "
        "the synthetic detector against XMASS-I's published numbers: "
        "[`detector_comparison.md`](detector_comparison.md)",
        "",
    ]
    body = comparison_markdown(doc).splitlines()[1:]  # drop the product's own title
    goal = doc["ratio_goal"]
    verdict = [
        "",
        f"Headlines with expected/published ≤ {goal}: "
        + ", ".join(
            f"{r['key']} {'yes' if r.get('within_goal') else 'NO'}" for r in doc["headlines"]
        ),
        "",
    ]
    return "\n".join([*head, *body, *verdict])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=Path("results/default"))
    ap.add_argument("--output", type=Path, default=Path("benchmarks/records/sensitivity.md"))
    ap.add_argument("--note", default="", help="one more line (e.g. the run's wall time)")
    args = ap.parse_args()
    args.output.write_text(record(args.results, args.note))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
