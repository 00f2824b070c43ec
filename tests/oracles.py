"""Expected values worked independently of the code under test, shared by the tests that need them."""

from __future__ import annotations

import math


def poisson_q99(lam: float) -> int:
    """Smallest n with P(N <= n) >= 0.99 for N ~ Poisson(lam), by summing the pmf term by term."""
    n, term = 0, math.exp(-lam)
    cdf = term
    while cdf < 0.99:
        n += 1
        term *= lam / n
        cdf += term
    return n
