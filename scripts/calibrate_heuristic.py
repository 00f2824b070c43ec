#!/usr/bin/env python3
"""Fit and score the offline token heuristic on real requests with their true counts.

    python scripts/calibrate_heuristic.py                 # score the shipped weights (held-out and overall)
    python scripts/calibrate_heuristic.py --fit           # refit, show held-out and overall figures
    python scripts/calibrate_heuristic.py --fit --write   # ... and store the weights in pricing/tokenizer.yaml

Data: ../shared/calibration/token-truth-calibration.jsonl (or --data), tier A only. The true input count is
input_tokens + cache_creation_input_tokens + cache_read_input_tokens. Features come from
`costplan.tokens.heuristic.breakdown` (the same code the library runs), with the image formula of the date the
request was recorded. Weights are non-negative and minimise the absolute relative error (iteratively
re-weighted least squares, pure Python: no numpy needed).

Honesty: the held-out figures come from a split by recording (a cassette's requests stay on one side, so
near-duplicates do not leak), fitted on 70% and scored on 30%. The interval stored for the library is the
5th..95th percentile of true/estimate over 5-fold out-of-fold predictions, not of the fitted data itself.
Nothing is written outside the repository, and only with --write.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from costplan.tokens.facts import load_facts  # noqa: E402
from costplan.tokens.heuristic import STRUCTURE, breakdown, linear  # noqa: E402
from costplan.tokens.text import FEATURES  # noqa: E402

DATA = ROOT.parent / "shared" / "calibration" / "token-truth-calibration.jsonl"
FACTS = ROOT / "pricing" / "tokenizer.yaml"
TOLERANCE = 2  # tokens: identical requests recorded months apart differ by a token or two
# Features that stay at zero: `chars` duplicates the sum of the classes; `request` is folded into messages.
FROZEN = {"text.chars", "json.chars"}
# Classes the data barely has (60 requests hold a few non-ASCII characters): fitting them would fit noise,
# so they are stated guesses, kept out of the fit and written as `assumed`.
ASSUMED = {
    "text.wide2": 1.0,  # Latin accents, Greek, Cyrillic, Hebrew, Arabic: about one token per character
    "text.wide3": 1.2,  # CJK, kana, Hangul, symbols: about one token per character, some two
    "text.wide4": 2.0,  # emoji and other astral characters: usually two or three byte-level tokens
    "json.wide2": 1.0,
    "json.wide3": 1.2,
    "json.wide4": 2.0,
}


def truth(usage: dict) -> int:
    return sum(
        int(usage.get(k) or 0) for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )


def load(path: Path) -> list[dict]:
    facts = load_facts()
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["meta"].get("tier") != "A":
            continue
        on = dt.date.fromisoformat(record["meta"]["first_commit_date"])
        parts = breakdown(record["request"], model=record["meta"]["model"], on=on, facts=facts)
        feats = parts.features()
        fixed = parts.fixed + sum(feats[name] * value for name, value in ASSUMED.items())
        rows.append(
            {
                "y": truth(record["usage"]),
                "x": feats,
                "fixed": fixed,
                "unknowable": parts.unknown > 0,
                "features": record["meta"]["features"],
                "model": record["meta"]["model"],
                "group": record["source"],
                "chars": feats["text.chars"] + feats["json.chars"],
            }
        )
    return rows


def fit(rows: list[dict], names: list[str], iterations: int = 30) -> dict[str, float]:
    """Non-negative weights minimising sum |fixed + x.w - y| / y, by IRLS over coordinate-descent NNLS."""
    sample = [1.0 / max(r["y"], 1) ** 2 for r in rows]
    w = {n: 0.0 for n in names}
    for _ in range(iterations):
        gram = [[0.0] * len(names) for _ in names]
        rhs = [0.0] * len(names)
        for r, s in zip(rows, sample):
            x = [r["x"][n] for n in names]
            target = r["y"] - r["fixed"]
            for i, xi in enumerate(x):
                if not xi:
                    continue
                rhs[i] += s * xi * target
                row = gram[i]
                for j, xj in enumerate(x):
                    if xj:
                        row[j] += s * xi * xj
        vec = [w[n] for n in names]
        for _sweep in range(400):  # projected coordinate descent; converges well within this
            delta = 0.0
            for i in range(len(names)):
                if gram[i][i] <= 0:
                    continue
                grad = rhs[i] - sum(gram[i][j] * vec[j] for j in range(len(names)) if j != i)
                new = max(0.0, grad / gram[i][i])
                delta = max(delta, abs(new - vec[i]))
                vec[i] = new
            if delta < 1e-7:
                break
        w = dict(zip(names, vec))
        # IRLS step towards least absolute relative error: weight each row by 1/|relative residual|
        sample = []
        for r in rows:
            rel = abs(r["fixed"] + linear(r["x"], w) - r["y"]) / max(r["y"], 1)
            sample.append(1.0 / (max(r["y"], 1) ** 2 * max(rel, 0.005)))
    return {n: round(v, 5) for n, v in w.items() if v > 0}


def errors(rows: list[dict], w: dict[str, float]) -> list[tuple[dict, float, float]]:
    out = []
    for r in rows:
        est = max(1, round(r["fixed"] + linear(r["x"], {k: v for k, v in w.items() if k not in ASSUMED})))
        err = max(0, abs(est - r["y"]) - TOLERANCE) / max(r["y"], 1)
        out.append((r, err, r["y"] / est))
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def summary(label: str, errs: list[float]) -> str:
    return f"{label:<28} n={len(errs):>4}  median {100 * pct(errs, 0.5):6.2f}%  p90 {100 * pct(errs, 0.9):6.2f}%"


def held_out(group: str, test_share: float = 0.3) -> bool:
    digest = hashlib.sha256(group.encode()).digest()
    return digest[0] / 256 < test_share


def report(rows: list[dict], w: dict[str, float], title: str) -> None:
    res = errors(rows, w)
    print(f"\n== {title}")
    print(summary("overall", [e for _, e, _ in res]))
    print(summary("overall, content readable", [e for r, e, _ in res if not r["unknowable"]]))
    naive = [max(0, abs(max(1, round(r["chars"] / 4)) - r["y"]) - TOLERANCE) / max(r["y"], 1) for r in rows]
    print(summary("chars/4 (for comparison)", naive))
    by: dict[str, list[float]] = defaultdict(list)
    for r, e, _ in res:
        for f in r["features"]:
            by[f].append(e)
    print("-- by feature (a request counts under each of its features)")
    for f, errs in sorted(by.items(), key=lambda kv: -len(kv[1])):
        if len(errs) >= 3:
            print(summary(f, errs))
    bym: dict[str, list[float]] = defaultdict(list)
    for r, e, _ in res:
        bym[r["model"]].append(e)
    print("-- by model")
    for m, errs in sorted(bym.items(), key=lambda kv: -len(kv[1])):
        print(summary(m, errs))


def oof_ratios(rows: list[dict], names: list[str], folds: int = 5) -> list[float]:
    ratios = []
    for k in range(folds):

        def fold(r: dict) -> int:
            return hashlib.sha256(r["group"].encode()).digest()[1] % folds

        train = [r for r in rows if fold(r) != k]
        test = [r for r in rows if fold(r) == k]
        w = fit(train, names)
        ratios += [ratio for _, _, ratio in errors(test, w)]
    return ratios


def write(w: dict[str, float], low: float, high: float, stats: dict[str, object]) -> None:
    text = FACTS.read_text(encoding="utf-8")
    head = re.split(r"^weights:", text, maxsplit=1, flags=re.M)[0]
    lines = ["weights:"]
    lines += [f"  {name}: {value}  # calibrated" for name, value in sorted(w.items())]
    lines += [f"  {name}: {value}  # assumed (too little data to fit)" for name, value in sorted(ASSUMED.items())]
    lines.append(f"interval: {{low: {low:.4f}, high: {high:.4f}}}  # calibrated (5-fold out-of-fold)")
    lines.append("calibration:  # what scripts/calibrate_heuristic.py measured when it wrote the weights")
    lines += [f"  {k}: {json.dumps(v)}" for k, v in stats.items()]
    FACTS.write_text(head + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"\nwrote weights to {FACTS.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--fit", action="store_true", help="refit the weights (else score the shipped ones)")
    parser.add_argument("--write", action="store_true", help="with --fit: store weights in pricing/tokenizer.yaml")
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"calibration data not found: {args.data} (pass --data)")
    rows = load(args.data)
    names = [
        n
        for n in [*STRUCTURE, *(f"text.{f}" for f in FEATURES), *(f"json.{f}" for f in FEATURES)]
        if n not in FROZEN and n not in ASSUMED
    ]
    print(f"{len(rows)} tier-A requests; error = max(0, |estimate - true| - {TOLERANCE}) / true")
    if not args.fit:
        report(rows, load_facts().file.weights, "shipped weights, all tier-A requests")
        return
    fit_rows = [r for r in rows if not r["unknowable"]]  # URL / file-id content: no offline estimate can know it
    train = [r for r in fit_rows if not held_out(r["group"])]
    test = [r for r in rows if held_out(r["group"])]
    w_train = fit(train, names)
    report(train, w_train, f"fitted on the 70% split ({len(train)} requests): training error")
    report(test, w_train, f"held-out 30% split ({len(test)} requests, other recordings)")
    print("\n== leave one project out (fit on the other projects, score this one)")
    projects = sorted({r["group"].split(":")[0] for r in rows})
    for project in projects:
        w_lopo = fit([r for r in fit_rows if not r["group"].startswith(project + ":")], names)
        errs = [e for _, e, _ in errors([r for r in rows if r["group"].startswith(project + ":")], w_lopo)]
        print(summary(project, errs))
    w_all = fit(fit_rows, names)
    report(rows, w_all, "fitted on all tier-A requests (the shipped weights): in-sample")
    ratios = oof_ratios(fit_rows, names)
    low, high = pct(ratios, 0.05), pct(ratios, 0.95)
    inside = sum(low <= r <= high for r in ratios) / len(ratios)
    print(f"\ninterval (true/estimate, 5-fold out-of-fold): low {low:.4f} high {high:.4f} covers {inside:.1%}")
    print("weights:", json.dumps(w_all, indent=None))
    if args.write:
        held = [e for _, e, _ in errors(test, w_train)]
        w_ship = {**w_all, **ASSUMED}
        stats = {
            "data": "token-truth-calibration.jsonl tier A",
            "requests": len(rows),
            "held_out_requests": len(test),
            "held_out_median_abs_rel_error": round(pct(held, 0.5), 4),
            "held_out_p90_abs_rel_error": round(pct(held, 0.9), 4),
            "in_sample_median_abs_rel_error": round(pct([e for _, e, _ in errors(rows, w_ship)], 0.5), 4),
            "in_sample_p90_abs_rel_error": round(pct([e for _, e, _ in errors(rows, w_ship)], 0.9), 4),
            "interval_coverage_out_of_fold": round(inside, 4),
        }
        write(w_all, low, high, stats)


if __name__ == "__main__":
    main()
