"""greenlight.stats against scipy.stats and numpy on thousands of seeded random samples, ties included.

Tolerance: p-values agree within 1e-9 relative or 1e-12 absolute (both sides compute in doubles; the exact
Mann-Whitney distribution is integer arithmetic here and uint64/float there, Fisher sums lgamma terms here
and uses a hypergeometric distribution there); quantiles within 1e-12 relative.
"""

from __future__ import annotations

import math
import random

import pytest

np = pytest.importorskip("numpy")
scipy_stats = pytest.importorskip("scipy.stats")

from greenlight import stats  # noqa: E402

RTOL, ATOL = 1e-9, 1e-12


def close(ours: float, theirs: float) -> bool:
    return math.isclose(ours, theirs, rel_tol=RTOL, abs_tol=ATOL)


def latency_sample(rng: random.Random, n: int, *, ties: bool) -> list[float]:
    """Lognormal latencies like a service's, rounded to whole milliseconds when ties are wanted."""
    median = rng.choice((2.0, 20.0, 200.0))
    values = [median * math.exp(rng.gauss(0, rng.choice((0.1, 0.5, 1.0)))) for _ in range(n)]
    return [float(round(v)) for v in values] if ties else values


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
def test_mann_whitney_u_matches_scipy_on_random_samples(alternative: str) -> None:
    # GIVEN 1500 seeded pairs of samples: sizes 1..60 (exact and asymptotic), shifted or not, half with ties
    rng = random.Random(f"mwu-{alternative}")
    methods = set()
    for i in range(1500):
        n1, n2 = rng.randint(1, 60), rng.randint(1, 60)
        if i % 3 == 0:
            n1, n2 = rng.randint(1, 8), rng.randint(1, 40)  # the exact method's range
        ties = i % 2 == 0
        x = latency_sample(rng, n1, ties=ties)
        shift = rng.choice((1.0, 1.0, 1.2, 0.8))
        y = [v * shift for v in latency_sample(rng, n2, ties=ties)]
        # WHEN both compute the test
        ours = stats.mann_whitney_u(x, y, alternative)
        theirs = scipy_stats.mannwhitneyu(x, y, alternative=alternative, method="auto")
        # THEN U and the p-value agree
        assert ours.u == pytest.approx(float(theirs.statistic), rel=1e-12), (x, y)
        assert close(ours.p, float(theirs.pvalue)), (alternative, x, y, ours, theirs.pvalue)
        methods.add(ours.method)
    assert methods == {"exact", "asymptotic"}


def test_mann_whitney_u_all_equal_values_is_no_evidence() -> None:
    # GIVEN two samples of one and the same value (scipy divides 0 by 0 here and returns nan)
    result = stats.mann_whitney_u([5.0] * 20, [5.0] * 20)
    # THEN nothing tells them apart
    assert result.p == 1.0


def test_mann_whitney_u_exact_for_a_large_second_sample() -> None:
    # GIVEN 5 values against 2000 (the exact distribution over 10000 values of U), no ties
    rng = random.Random(7)
    x = [rng.random() + 0.2 for _ in range(5)]
    y = [rng.random() for _ in range(2000)]
    ours = stats.mann_whitney_u(x, y)
    theirs = scipy_stats.mannwhitneyu(x, y, alternative="greater")
    assert ours.method == "exact"
    assert close(ours.p, float(theirs.pvalue))


def test_mann_whitney_u_rejects_an_empty_sample_and_a_bad_alternative() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        stats.mann_whitney_u([], [1.0])
    with pytest.raises(ValueError, match="alternative must be one of"):
        stats.mann_whitney_u([1.0], [1.0], "bigger")


def test_fisher_greater_matches_scipy_on_random_tables() -> None:
    # GIVEN 3000 seeded 2x2 tables: few requests to many, error rates from 0 to 50 %
    rng = random.Random("fisher")
    for _ in range(3000):
        n_green, n_blue = rng.choice((5, 30, 200, 5000)), rng.choice((5, 30, 200, 5000))
        rate_g, rate_b = rng.choice((0.0, 0.01, 0.05, 0.5)), rng.choice((0.0, 0.01, 0.05, 0.5))
        a = sum(rng.random() < rate_g for _ in range(n_green))
        c = sum(rng.random() < rate_b for _ in range(n_blue))
        table = [[a, n_green - a], [c, n_blue - c]]
        # WHEN both compute the one-sided test
        ours = stats.fisher_greater(a, n_green - a, c, n_blue - c)
        theirs = float(scipy_stats.fisher_exact(table, alternative="greater").pvalue)
        # THEN the p-values agree
        assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12), (table, ours, theirs)


def test_fisher_greater_with_counts_in_the_millions() -> None:
    # GIVEN CloudWatch-sized counts: 3 million requests a side
    table = [[3100, 2_996_900], [2950, 2_997_050]]
    ours = stats.fisher_greater(3100, 2_996_900, 2950, 2_997_050)
    theirs = float(scipy_stats.fisher_exact(table, alternative="greater").pvalue)
    assert math.isclose(ours, theirs, rel_tol=1e-7)


def test_fisher_greater_rejects_negative_counts() -> None:
    with pytest.raises(ValueError, match="counts"):
        stats.fisher_greater(-1, 2, 3, 4)


def test_quantile_matches_numpy() -> None:
    rng = random.Random("quantile")
    for _ in range(2000):
        values = latency_sample(rng, rng.randint(1, 50), ties=rng.random() < 0.5)
        q = rng.choice((0.0, 0.5, 0.9, 0.95, 0.99, 1.0, rng.random()))
        assert math.isclose(stats.quantile(values, q), float(np.quantile(values, q)), rel_tol=1e-12)
    assert stats.median([3.0, 1.0, 2.0, 10.0]) == 2.5


def test_quantile_rejects_no_values_and_q_out_of_range() -> None:
    with pytest.raises(ValueError, match="no values"):
        stats.quantile([], 0.5)
    with pytest.raises(ValueError, match="within 0..1"):
        stats.quantile([1.0], 1.5)
