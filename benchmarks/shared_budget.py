"""One process of `benchmarks/limiters.py --processes N`: GETs paced through a pacer.

Started by limiters.py (not by hand): waits until the common start time, then sends
`--requests` `GET /products/p` through a `CraEvidenceClient` whose pacer is the shared
Redis budget (`--pacer shared`, `craflow.budget.choose_pacer` with mode "shared") or the
per-process pacer (`--pacer local`). A 429 is waited out and resent by the client, as in
a run. Settings come from the environment limiters.py sets (`CRA_EVIDENCE_*`,
`CRAFLOW_RATE_*`, `CRAFLOW_BUDGET_*`).
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.api import ApiSettings, RateLimitSettings
from config.budget import BudgetSettings
from craflow.api import CraEvidenceClient
from craflow.api.ratelimit import BucketPacer, Pacer
from craflow.budget import RedisBudget, choose_pacer


def _pacer(mode: str) -> Pacer:
    if mode == "local":
        return BucketPacer(RateLimitSettings())
    pacer = choose_pacer(ApiSettings(), RateLimitSettings(), BudgetSettings(mode="shared"))
    if not isinstance(pacer, RedisBudget):
        raise SystemExit("shared budget: Redis unreachable")
    return pacer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--start-at", type=float, required=True, help="Unix time to start at")
    parser.add_argument("--pacer", choices=("shared", "local"), default="shared")
    args = parser.parse_args()
    with CraEvidenceClient(ApiSettings(), pacer=_pacer(args.pacer)) as client:
        time.sleep(max(0.0, args.start_at - time.time()))
        for _ in range(args.requests):
            client.get_product("p")


if __name__ == "__main__":
    main()
