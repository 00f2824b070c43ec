"""The statistics the plan stands on: normal and Poisson quantiles, and the lognormal of request sizes.

Pure functions of floats, no data and no money. The standard normal quantile comes from
`statistics.NormalDist` (exact to double precision), so a z-value is never typed in as a literal and
never approximated twice.
"""

from __future__ import annotations

import math
from statistics import NormalDist

QUANTILE = 0.99  # rate-limit demand is taken at this quantile of the busiest minute: the mean is throttled
Z95 = NormalDist().inv_cdf(0.95)  # a request size's 95th percentile, as a workload file gives it
Z_QUANTILE = NormalDist().inv_cdf(QUANTILE)
# A lognormal with a given mean can place its 95th percentile at most this far above the mean: the largest
# p95/mean over all sigmas, e^(z95^2 / 2) = 3.87, reached at sigma = z95.
MAX_P95_RATIO = math.exp(Z95 * Z95 / 2)


def normal_quantile(q: float) -> float:
    """The standard normal quantile z with P(Z <= z) = q."""
    if not 0 < q < 1:
        raise ValueError("quantile must be in (0, 1)")
    return Z_QUANTILE if q == QUANTILE else NormalDist().inv_cdf(q)


def lognormal_sigma(mean: float, p95: float) -> float:
    """The shape of the lognormal with this mean and 95th percentile (0 for a constant size).

    Sizes of requests are positive and right-skewed, and a user can read both numbers off their logs.
    mean = e^(mu + s^2/2) and p95 = e^(mu + z s) give s^2/2 - z s + ln(p95/mean) = 0; the smaller root is the
    one whose p95 grows with s. A p95 below the mean, or above MAX_P95_RATIO x the mean, has no lognormal.
    """
    if p95 == mean:
        return 0.0
    ratio = math.log(p95 / mean)
    if ratio < 0 or ratio > Z95 * Z95 / 2:
        raise ValueError(f"no lognormal has mean {mean:g} and 95th percentile {p95:g}")
    return Z95 - math.sqrt(Z95 * Z95 - 2 * ratio)


def poisson_quantile(lam: float, q: float = QUANTILE) -> int:
    """Smallest n with P(N <= n) >= q for N ~ Poisson(lam).

    Exact summation up to lam = 1000 (log-space pmf so large means do not underflow); above it the
    Cornish-Fisher expansion of the normal approximation, accurate to about one request there.
    """
    if lam <= 0:
        return 0
    if lam > 1000:
        z = normal_quantile(q)
        return math.ceil(lam + z * math.sqrt(lam) + (z * z - 1) / 6 - 0.5)
    log_p = -lam
    cdf = math.exp(log_p)
    n = 0
    while cdf < q:
        n += 1
        log_p += math.log(lam) - math.log(n)
        cdf += math.exp(log_p)
    return n


def token_demand(lam: float, mean: float, mean_square: float, q: float = QUANTILE, n_q: int | None = None) -> float:
    """Tokens in a minute at quantile q when lam requests arrive (Poisson) with sizes of the given moments.

    N_q * E[X] + z_q * sqrt(lam * Var[X]): the count quantile at the mean size, plus the normal quantile of
    the size spread. Exactly N_q * X for a constant size; never below the compound-Poisson normal
    approximation (standard deviations are subadditive); and nondecreasing in lam, so less traffic never
    shows more demand. `n_q` passes a count quantile already computed for this lam.
    """
    if lam <= 0:
        return 0.0
    n = poisson_quantile(lam, q) if n_q is None else n_q
    spread = mean_square - mean * mean
    spread = spread if spread > 1e-9 * mean * mean else 0.0  # float noise of a constant size
    return n * mean + normal_quantile(q) * math.sqrt(lam * spread)


def headroom(demand: float, limit: float) -> float:
    """1 - demand/limit: 0.3 means 30 % to spare, negative means throttled at the busiest minute."""
    return 1.0 - demand / limit
