"""The statistics of comparing green with blue, in plain Python (the Lambda bundle carries no numpy or scipy).

- `mann_whitney_u`: is one sample stochastically greater than the other (green slower than blue)? The
  p-values equal `scipy.stats.mannwhitneyu(x, y, alternative=..., method="auto")`: the exact distribution of
  U when a sample has at most 8 values and there are no ties, else the normal approximation with the tie
  correction and the continuity correction.
- `fisher_greater`: Fisher's exact test, one-sided: is the first row's rate (green's errors) greater than the
  second's? Equal to `scipy.stats.fisher_exact(table, alternative="greater")`.
- `quantile` (numpy's default, linear interpolation) and `median`.

tests/unit/test_stats.py compares each with scipy/numpy on thousands of seeded random samples, ties included.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

ALTERNATIVES = ("greater", "less", "two-sided")
# scipy's method="auto": the exact distribution while a sample is this small and nothing is tied.
EXACT_MAX = 8


@dataclass(frozen=True)
class MannWhitney:
    """The U statistic of the first sample, the p-value, and which method gave it ('exact' or 'asymptotic')."""

    u: float
    p: float
    method: str


def _ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Average ranks (1-based) of `values`, and the size of every group of tied values."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        rank = (i + j) / 2 + 1  # positions i..j share the mean of ranks i+1..j+1
        for k in range(i, j + 1):
            ranks[order[k]] = rank
        ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def _u_counts(n1: int, n2: int) -> list[int]:
    """How many of the C(n1+n2, n1) orderings give U = 0, 1, ..., n1*n2 (no ties).

    They are the coefficients of the Gaussian binomial [n1+n2 choose n1]_q, built as the product of
    (1 - q^(n2+i)) / (1 - q^i) for i = 1..n1; every partial product is itself a polynomial, so each
    division is exact, in integers.
    """
    m, n = min(n1, n2), max(n1, n2)
    poly = [1]
    for i in range(1, m + 1):
        grown = poly + [0] * (n + i)
        for k in range(len(grown) - 1, n + i - 1, -1):  # times (1 - q^(n+i))
            grown[k] -= grown[k - n - i]
        for k in range(i, len(grown)):  # divided by (1 - q^i)
            grown[k] += grown[k - i]
        while len(grown) > 1 and grown[-1] == 0:
            grown.pop()
        poly = grown
    return poly + [0] * (m * n + 1 - len(poly))


def _exact_sf(u: int, n1: int, n2: int) -> float:
    """P(U >= u) under the null hypothesis, from the exact distribution."""
    counts = _u_counts(n1, n2)
    return sum(counts[max(u, 0) :]) / math.comb(n1 + n2, n1)


def mann_whitney_u(
    x: Sequence[float], y: Sequence[float], alternative: str = "greater", *, continuity: bool = True
) -> MannWhitney:
    """Mann-Whitney U test of `x` against `y`; 'greater': x tends to be larger than y (scipy's convention)."""
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {', '.join(ALTERNATIVES)}, got {alternative!r}")
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples need at least one value")
    ranks, ties = _ranks([*x, *y])
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    u2 = n1 * n2 - u1
    u, factor = {"greater": (u1, 1), "less": (u2, 1), "two-sided": (max(u1, u2), 2)}[alternative]
    tied = any(t > 1 for t in ties)
    if (n1 <= EXACT_MAX or n2 <= EXACT_MAX) and not tied:
        p, method = _exact_sf(round(u), n1, n2), "exact"
    else:
        n = n1 + n2
        tie_term = sum(t**3 - t for t in ties)
        variance = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))
        numerator = u - n1 * n2 / 2 - (0.5 if continuity else 0.0)
        # A zero variance means every value is equal: nothing tells the samples apart.
        p = normal_sf(numerator / math.sqrt(variance)) if variance > 0 else 1.0
        method = "asymptotic"
    return MannWhitney(u1, min(max(p * factor, 0.0), 1.0), method)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_greater(a: int, b: int, c: int, d: int) -> float:
    """One-sided Fisher's exact test of the table [[a, b], [c, d]]: P(first cell >= a) with the margins fixed.

    With rows (green, blue) and columns (errors, successes), a small value says green's error rate is
    greater than blue's. Terms are summed in log space (math.lgamma), so counts in the millions (CloudWatch's
    RequestCount) cost no big integers; terms past the mode that no longer change the sum end the loop.
    """
    if min(a, b, c, d) < 0:
        raise ValueError(f"a contingency table holds counts, got {[[a, b], [c, d]]}")
    row, col, total = a + b, a + c, a + b + c + d
    top = min(row, col)
    if total == 0 or a == 0:
        return 1.0
    base = _log_comb(total, row)
    mode = (row + 1) * (col + 1) // (total + 2)
    p = 0.0
    for k in range(a, top + 1):
        term = math.exp(_log_comb(col, k) + _log_comb(total - col, row - k) - base)
        p += term
        if k > mode and term < p * 1e-17:
            break
    return min(p, 1.0)


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0 <= q <= 1) by linear interpolation between order statistics (numpy's default)."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 1:
        raise ValueError(f"q must be within 0..1, got {q}")
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return quantile(values, 0.5)
