"""East Data West Computing (东数西算) compute-layout planner.

Places compute demand (origin x latency class x year) on candidate sites (the 10 national data-centre clusters
of the 8 hub nodes, optional non-hub sites, existing stock), decides new racks (continuous or in modules) and
site openings, buys grid and green electricity, and respects the programme's rules (utilisation floor, hub
share of new capacity, green share at hubs, PUE caps, latency bounds, ...), each switchable in the scenario
file with its shadow price reported. Solved with HiGHS (highspy) on a sparse matrix model. See docs/plan.md.

>>> from dcindex.plan import plan, example_path
>>> res = plan(example_path())            # doctest: +SKIP
>>> print(res.summary())                  # doctest: +SKIP
"""
from __future__ import annotations

from .api import compare_results, frontier, plan
from .diagnose import PlanInfeasibleError
from .results import PlanResult
from .scenario import (HUB_DEMAND_PROVINCES, HUB_SUPPLY_PROVINCES, Scenario, ScenarioSpec, example_path,
                       load_scenario)
from .toy import toy_scenario

__all__ = ["plan", "PlanResult", "PlanInfeasibleError", "Scenario", "ScenarioSpec", "load_scenario", "example_path",
           "frontier", "compare_results", "toy_scenario", "HUB_DEMAND_PROVINCES", "HUB_SUPPLY_PROVINCES"]

from dcindex._callable import make_callable  # noqa: E402

make_callable(__name__, "plan")  # dcindex.plan(...) runs the planner; dcindex.plan.PlanResult etc. stay reachable
