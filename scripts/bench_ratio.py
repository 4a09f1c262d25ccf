#!/usr/bin/env python3
"""Print criterion results of one group as ratios to a baseline measured in the same run.

usage: bench_ratio.py GROUP BASELINE [TARGET ...]
Reads target/criterion/GROUP/*/new/estimates.json (mean and its 95% confidence interval).
"""
import json
import pathlib
import sys


def mean(group: str, name: str):
    path = pathlib.Path("target/criterion") / group / name / "new" / "estimates.json"
    est = json.loads(path.read_text())["mean"]
    ci = est["confidence_interval"]
    return est["point_estimate"], ci["lower_bound"], ci["upper_bound"]


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    group, baseline, *targets = sys.argv[1:]
    if not targets:
        root = pathlib.Path("target/criterion") / group
        targets = sorted(p.name for p in root.iterdir() if p.name not in (baseline, "report"))
    base, base_lo, base_hi = mean(group, baseline)
    print(f"{group}: baseline {baseline} = {base:.1f} ns [{base_lo:.1f}, {base_hi:.1f}]")
    for name in targets:
        m, lo, hi = mean(group, name)
        print(f"  {name}: {m:.1f} ns [{lo:.1f}, {hi:.1f}]  ratio {m / base:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
