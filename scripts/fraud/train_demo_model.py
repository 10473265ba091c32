#!/usr/bin/python3
"""
Trains Daybook's demo fraud model on synthetic transactions and writes, under
src/compliance/model/:

- fraud-demo.model.json: the booster in XGBoost's JSON model format
  (Booster.save_model), objective binary:logistic;
- fraud-demo.fixture.json: ~200 inputs (some with missing values, as null)
  with XGBoost's own predicted probabilities, which the TypeScript scorer
  must reproduce to 1e-6 (src/compliance/fraud/xgboost.scorer.unit.test.ts).

Run by hand, not in CI, with Debian's XGBoost (apt-get install python3-xgboost):

    /usr/bin/python3 scripts/fraud/train_demo_model.py

The data is made up. The feature order must match FRAUD_FEATURES in
src/compliance/fraud/fraud.features.ts.
"""
import json
import math
import os
import sys

import numpy as np
import xgboost as xgb

FEATURES = [
    "amount",              # major units (e.g. dollars)
    "log_amount",          # ln(1 + amount)
    "velocity_1h",         # the customer's payments in the last hour, before this one
    "amount_vs_avg",       # amount / the customer's average amount (missing: no history)
    "new_payment_method",  # 1 when the payment method was first seen in the last 24 h
    "country_mismatch",    # 1 when the card's country differs from the customer's
    "hour_of_day",         # 0..23, UTC
]
MODEL_VERSION = "fraud-demo-1"
SEED = 20240613
ROWS = 20000
FIXTURE_ROWS = 200
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "compliance", "model")


def synthetic(rng, n):
    amount = np.round(rng.lognormal(mean=3.5, sigma=1.3, size=n), 2)
    velocity = rng.poisson(lam=0.6, size=n).astype(np.float64)
    average = np.round(rng.lognormal(mean=3.5, sigma=0.8, size=n), 2)
    amount_vs_avg = amount / average
    new_method = (rng.random(n) < 0.15).astype(np.float64)
    mismatch = (rng.random(n) < 0.08).astype(np.float64)
    hour = rng.integers(0, 24, size=n).astype(np.float64)
    # The hidden truth: risk grows with velocity, unusual amounts, new methods,
    # foreign cards and night hours.
    night = ((hour < 5) | (hour >= 23)).astype(np.float64)
    logit = (-4.2 + 0.55 * velocity + 0.9 * np.log1p(amount_vs_avg) + 1.4 * new_method
             + 1.6 * mismatch + 0.7 * night + 0.25 * (np.log1p(amount) - 3.5))
    label = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.float64)
    x = np.column_stack([amount, np.log1p(amount), velocity, amount_vs_avg, new_method, mismatch, hour])
    # Customers without history have no average; some velocities are unknown.
    x[rng.random(n) < 0.07, 3] = np.nan
    x[rng.random(n) < 0.03, 2] = np.nan
    return x, label


def boundary_rows(booster, base):
    """Rows whose feature sits exactly on a split condition: the test is `x < condition`, so they go right."""
    model = json.loads(booster.save_raw("json"))
    rows = []
    for tree in model["learner"]["gradient_booster"]["model"]["trees"][:12]:
        for node, left in enumerate(tree["left_children"]):
            if left == -1:
                continue
            row = np.where(np.isnan(base), 1.0, base)
            row[tree["split_indices"][node]] = float(np.float32(tree["split_conditions"][node]))
            rows.append(row)
            break
    return np.array(rows)


def main():
    rng = np.random.default_rng(SEED)
    x, y = synthetic(rng, ROWS)
    train = xgb.DMatrix(x, label=y, feature_names=FEATURES, missing=np.nan)
    params = {
        "objective": "binary:logistic",
        "max_depth": 4,
        "eta": 0.3,
        "base_score": float(y.mean()),
        "seed": SEED,
        "nthread": 1,
        "tree_method": "exact",
    }
    booster = xgb.train(params, train, num_boost_round=30)
    booster.set_attr(model_version=MODEL_VERSION)
    os.makedirs(OUT_DIR, exist_ok=True)
    booster.save_model(os.path.join(OUT_DIR, "fraud-demo.model.json"))

    fx, _ = synthetic(np.random.default_rng(SEED + 1), FIXTURE_ROWS)
    # Extra missing values anywhere, so every default_left branch is likely exercised.
    fx[np.random.default_rng(SEED + 2).random(fx.shape) < 0.05] = np.nan
    fx = np.vstack([fx, boundary_rows(booster, fx[0]), np.full((1, len(FEATURES)), np.nan)])
    predicted = booster.predict(xgb.DMatrix(fx, feature_names=FEATURES, missing=np.nan))
    cases = [
        {"features": [None if math.isnan(v) else float(v) for v in row], "probability": float(p)}
        for row, p in zip(fx, predicted)
    ]
    fixture = {"modelVersion": MODEL_VERSION, "xgboostVersion": xgb.__version__, "features": FEATURES, "cases": cases}
    with open(os.path.join(OUT_DIR, "fraud-demo.fixture.json"), "w") as out:
        json.dump(fixture, out, indent=1)
        out.write("\n")
    print(f"trained on {ROWS} rows (fraud rate {y.mean():.3f}); wrote model and {len(cases)} fixture cases to {os.path.relpath(OUT_DIR)}", file=sys.stderr)


if __name__ == "__main__":
    main()
