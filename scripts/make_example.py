"""Regenerate the bundled example (src/dcindex/data/example/) from ../shared/facts.

The facts are official statistics for the 31 provinces compiled from public releases; every value keeps its
citation (source_url | source_note) in the `source` column of the shipped data file.

Usage: python scripts/make_example.py [FACTS_DIR]
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "dcindex" / "data" / "example"
YEAR = "2022"
# indicator code -> (facts file, year); all have the 31 provinces in that year
INDICATORS = {
    "pct_apps": ("pct_applications.csv", YEAR),
    "utility_models": ("utility_model_patents_in_force.csv", YEAR),
    "madrid_marks": ("madrid_trademark_applications.csv", YEAR),
    "income_pc": ("disposable_income_pc_all.csv", YEAR),
}


def main(facts: Path) -> None:
    rows = []
    for code, (fname, year) in INDICATORS.items():
        with open(facts / fname, encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if r["year"] != year:
                    continue
                rows.append({"unit": r["province_code"], "year": year, "indicator": code, "value": r["value"],
                             "source": f"{r['source_url']} | {r['source_note']}"})
    units = {}
    with open(facts / "population_census2020.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            units[r["province_code"]] = {"pop": float(r["value"]) / 1e4,
                                         "pop_source": f"{r['source_url']} | {r['source_note']}"}
    with open(facts / "area_km2.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            units[r["province_code"]]["area"] = r["value"]
            units[r["province_code"]]["area_source"] = f"{r['source_url']} | {r['source_note']}"
    n = {}
    for r in rows:
        n.setdefault(r["indicator"], set()).add(r["unit"])
    assert all(len(v) == 31 for v in n.values()), {k: len(v) for k, v in n.items()}
    OUT.mkdir(parents=True, exist_ok=True)
    rows.sort(key=lambda r: (r["indicator"], r["unit"]))
    with open(OUT / "data.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["unit", "year", "indicator", "value", "source"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    with open(OUT / "denominators.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["unit", "population_10k", "area_km2", "population_source", "area_source"])
        for code in sorted(units):
            u = units[code]
            w.writerow([code, f"{u['pop']:.4f}", u["area"], u["pop_source"], u["area_source"]])
    print(f"wrote {len(rows)} values and {len(units)} units to {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "facts")
