"""Generate examples/churn.csv: a synthetic customer-churn table with every column kind.

Numeric, boolean, low- and high-cardinality categories, a signup date, a free-text support
note, an ID column (to be dropped) and missing values. The churn label depends on tenure,
price, contract, support complaints and the note's wording, plus noise.

    python examples/make_churn.py  # rewrites examples/churn.csv (seeded, reproducible)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

N = 2000
PLANS = ["basic", "standard", "premium"]
CONTRACTS = ["monthly", "one_year", "two_year"]
CITIES = [f"city_{i:02d}" for i in range(60)]
HAPPY = ["great service thanks", "all good no issues", "fast support helpful staff",
         "happy with the plan", "works fine"]
ANGRY = ["internet keeps dropping again", "billing error charged twice", "slow support never answered",
         "too expensive thinking of leaving", "outage for three days"]


def make(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tenure = rng.gamma(2.0, 12.0, N).round(1)
    plan = rng.choice(PLANS, N, p=[0.5, 0.35, 0.15])
    contract = rng.choice(CONTRACTS, N, p=[0.55, 0.25, 0.2])
    price = np.select([plan == "basic", plan == "standard"], [30, 55], 85) + rng.normal(0, 6, N)
    complaints = rng.poisson(0.8, N)
    paperless = rng.random(N) < 0.6
    city = rng.choice(CITIES, N)
    logit = (-0.04 * tenure + 0.03 * (price - 50) + 0.6 * complaints
             - 1.2 * (contract == "two_year") - 0.6 * (contract == "one_year") + 0.3 * paperless - 0.4)
    angry = rng.random(N) < 1 / (1 + np.exp(-(logit - 0.5)))
    notes = [rng.choice(ANGRY if a else HAPPY) for a in angry]
    logit = logit + 0.8 * angry
    churned = rng.random(N) < 1 / (1 + np.exp(-logit))
    signup = pd.Timestamp("2024-12-31") - pd.to_timedelta((tenure * 30.4).astype(int), unit="D")
    df = pd.DataFrame({
        "customer_id": [f"C{100000 + i}" for i in range(N)],
        "tenure_months": tenure, "plan": plan, "contract": contract,
        "monthly_price": price.round(2), "support_calls": complaints,
        "paperless_billing": np.where(paperless, "yes", "no"), "city": city,
        "signup_date": signup.strftime("%Y-%m-%d"), "last_note": notes,
        "churned": np.where(churned, "yes", "no"),
    })
    df.loc[rng.random(N) < 0.05, "monthly_price"] = np.nan
    df.loc[rng.random(N) < 0.03, "contract"] = None
    return df


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("churn.csv"), index=False)
