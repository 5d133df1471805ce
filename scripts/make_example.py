"""Regenerate the bundled example (src/dcindex/data/example/) from ../shared/facts and dcindex.china.

* data.csv: the four indicators, read from the compiled official facts (../shared/facts); every value keeps
  its citation (source_url | source_note) in the `source` column. Only indicators with all 31 provinces in
  the example year are accepted (checked).
* units.csv: codes, names and groupings from dcindex.china.units("province") -- the one source of truth for
  units and groupings -- plus the numeric denominator columns.
* denominators.csv: the denominators with the citation of each value (also from dcindex.china, which ships
  the census population and land area of the facts with their citations).

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
UNIT_COLUMNS = ["code", "name_zh", "name_en", "region4", "region4_zh", "north_south", "north_south_zh", "hub",
                "hub_zh", "hub_node"]


def main(facts: Path) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    import dcindex.china as ch

    prov = ch.units("province")
    codes = set(prov["code"])
    rows = []
    for code, (fname, year) in INDICATORS.items():
        with open(facts / fname, encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if r["year"] != year:
                    continue
                rows.append({"unit": r["province_code"], "year": year, "indicator": code, "value": r["value"],
                             "source": f"{r['source_url']} | {r['source_note']}"})
    n: dict[str, set[str]] = {}
    for r in rows:
        n.setdefault(r["indicator"], set()).add(r["unit"])
    bad = {k: len(v) for k, v in n.items() if v != codes}
    if bad or set(n) != set(INDICATORS):
        raise SystemExit(f"indicators without exactly the 31 provinces in {YEAR}: {bad or set(INDICATORS) - set(n)}")
    OUT.mkdir(parents=True, exist_ok=True)
    rows.sort(key=lambda r: (r["indicator"], r["unit"]))
    with open(OUT / "data.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["unit", "year", "indicator", "value", "source"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    prov = prov.sort_values("code")
    pop10k = [f"{p / 1e4:.4f}" for p in prov["population_2020"]]
    area = [str(int(a)) if float(a).is_integer() else repr(float(a)) for a in prov["area_km2"]]
    with open(OUT / "units.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(UNIT_COLUMNS + ["population_10k", "area_km2"])
        for rec, p, a in zip(prov[UNIT_COLUMNS].astype(str).to_dict("records"), pop10k, area):
            w.writerow([rec[c] for c in UNIT_COLUMNS] + [p, a])
    with open(OUT / "denominators.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["unit", "population_10k", "area_km2", "population_source", "area_source"])
        for code, p, a, ps, as_ in zip(prov["code"], pop10k, area, prov["population_2020_source"],
                                       prov["area_km2_source"]):
            w.writerow([code, p, a, ps, as_])
    print(f"wrote {len(rows)} values and {len(prov)} units to {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "facts")
