"""Benchmark: monthly charge lines of 100,000 contract-months (R-CHG-1, R-CHG-2).

Run ``python bench/pricing_bench.py``; prints one JSON object. The inputs (a deterministic
mix of plans, options, licence histories and price book versions) are built before the
timer starts; the timed part is what a bill run does per contract-month: pick the price
book version of the month, then compute that month's lines.
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.pricing import (  # noqa: E402
    INITIAL_PRICE_BOOK,
    Month,
    OptionPeriod,
    PriceBook,
    PriceBooks,
    ServiceTimeline,
    recurring_lines_for_month,
)

CONTRACT_MONTHS = 100_000
MONTHS_PER_CONTRACT = 25
TARGET = 200_000
PLANS = ("foundation-essential", "foundation-advantage", "complete-essential", "complete-advantage")


def _price_books() -> PriceBooks:
    raised = {code: price * 105 // 100 for code, price in INITIAL_PRICE_BOOK.prices.items()}
    return PriceBooks(
        [
            INITIAL_PRICE_BOOK,
            PriceBook(
                effective_from=date(2027, 10, 15),
                prices=raised,
                tax_rate_percent=Decimal("10"),
                late_payment_rate_percent=Decimal("14.5"),
            ),
        ]
    )


def _timeline(rng: random.Random) -> ServiceTimeline:
    start = date(2026, 5, 1) + timedelta(days=rng.randrange(0, 540))
    end = start + timedelta(days=rng.randrange(200, 1500)) if rng.random() < 0.3 else None
    ids = rng.choice((1, 10, 11, 25, 50, 120, 300, 999, 5_000, 20_000))
    changes = [(start - timedelta(days=rng.randrange(0, 60)), ids)]
    on = start
    for _ in range(rng.randrange(0, 5)):
        on += timedelta(days=rng.randrange(1, 200))
        ids = max(1, min(1_000_000, ids + rng.randrange(-ids // 2, ids + 10)))
        changes.append((on, ids))
    periods: list[OptionPeriod] = []
    if rng.random() < 0.4:
        periods.append(OptionPeriod("soc", start))
    if rng.random() < 0.5:
        added = start + timedelta(days=rng.randrange(0, 300))
        removed = added + timedelta(days=rng.randrange(30, 400)) if rng.random() < 0.5 else None
        periods.append(OptionPeriod("reserved_ip", added, removed))
    return ServiceTimeline(
        plan=rng.choice(PLANS),
        service_start_on=start,
        service_end_on=end,
        licence_changes=tuple(changes),
        option_periods=tuple(periods),
    )


def main() -> None:
    rng = random.Random(42)
    books = _price_books()
    work: list[tuple[ServiceTimeline, Month]] = []
    while len(work) < CONTRACT_MONTHS:
        timeline = _timeline(rng)
        first = Month.of(timeline.service_start_on)
        work.extend((timeline, first + i) for i in range(MONTHS_PER_CONTRACT))
    del work[CONTRACT_MONTHS:]

    for_month = books.for_month
    started = time.perf_counter()
    results = [recurring_lines_for_month(for_month(month), tl, month) for tl, month in work]
    seconds = time.perf_counter() - started

    billed = sum(1 for lines in results if lines)
    checksum = sum(line.amount for lines in results for line in lines)
    rate = CONTRACT_MONTHS / seconds
    print(
        json.dumps(
            {
                "benchmark": "pricing.monthly_lines",
                "contract_months": CONTRACT_MONTHS,
                "billed_months": billed,
                "checksum_yen": checksum,
                "seconds": round(seconds, 4),
                "contract_months_per_second": round(rate),
                "target": TARGET,
                "ok": rate >= TARGET,
            }
        )
    )


if __name__ == "__main__":
    main()
