"""Survey of the hostile-range property test: run N examples without stopping at the first
failure, and write one JSON line per example (case, truths, outcome, problems, seconds).

    PYTHONPATH=$PWD python tests/references/hostile_survey.py --examples 500 --out survey.jsonl

The examples come from the same strategy as tests/test_hostile_property.py (derandomised, no
shrinking); the test itself stops at the first failure, this script lists them all.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

import mpmath as mp
from hypothesis import HealthCheck, Phase, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/

import test_hostile_property as T  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=500)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    out = args.out.open("w")

    @settings(max_examples=args.examples, derandomize=True, deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=T.cases())
    def run(case):
        name, pairs, batched = case
        t0 = time.perf_counter()
        rec = {"function": name, "batched": batched,
               "pairs": [[repr(p), repr(q)] for p, q in pairs]}
        try:
            outcome, problems, truths = T.evaluate(name, pairs, batched)
            rec.update(outcome=outcome, problems=problems, truths=[mp.nstr(t, 17) for t in truths])
        except Exception as exc:  # noqa: BLE001 - a survey records every kind of failure
            rec.update(outcome="exception", problems=[f"{type(exc).__name__}: {exc}"],
                       trace=traceback.format_exc(limit=-3))
        rec["seconds"] = round(time.perf_counter() - t0, 3)
        out.write(json.dumps(rec) + "\n")
        out.flush()

    run()
    out.close()


if __name__ == "__main__":
    main()
