"""Clopper-Pearson bounds against published values and their defining properties."""

import numpy as np
import pytest
from scipy.stats import binom

from service.engine.metrics import binomial


@pytest.mark.parametrize(
    ("successes", "trials", "lower", "upper"),
    [
        # Two-sided 95 % exact intervals as tabulated by Clopper and Pearson (1934) and in standard references.
        (5, 10, 0.1871, 0.8129),
        (0, 10, 0.0, 0.3085),
        (10, 10, 0.6915, 1.0),
        (1, 20, 0.0013, 0.2487),
        (50, 100, 0.3983, 0.6017),
    ],
)
def test_two_sided_intervals_match_known_values(successes: int, trials: int, lower: float, upper: float) -> None:
    assert binomial.interval(successes, trials, 0.95) == pytest.approx((lower, upper), abs=1e-4)


def test_one_sided_bounds_match_closed_forms() -> None:
    # All successes: the lower bound is alpha ** (1 / n); none: the upper bound is 1 - alpha ** (1 / n).
    assert binomial.lower_bound(10, 10, 0.95) == pytest.approx(0.05**0.1)
    assert binomial.lower_bound(10, 10, 0.95) == pytest.approx(0.7411, abs=1e-4)
    assert binomial.upper_bound(0, 59, 0.95) == pytest.approx(1 - 0.05 ** (1 / 59))
    assert binomial.lower_bound(0, 7, 0.95) == 0.0 and binomial.upper_bound(7, 7, 0.95) == 1.0


@pytest.mark.parametrize(("successes", "trials"), [(3, 10), (17, 20), (40, 200)])
def test_the_bounds_are_where_the_binomial_tail_equals_one_minus_confidence(successes: int, trials: int) -> None:
    lower = binomial.lower_bound(successes, trials, 0.9)
    upper = binomial.upper_bound(successes, trials, 0.9)
    assert binom.sf(successes - 1, trials, lower) == pytest.approx(0.1)
    assert binom.cdf(successes, trials, upper) == pytest.approx(0.1)


def test_arrays_in_arrays_out() -> None:
    lower = binomial.lower_bound(np.array([0, 5, 10]), np.array([10, 10, 10]), 0.95)
    assert lower.shape == (3,) and lower[0] == 0.0 and lower[1] < lower[2]


def test_trials_needed_for_a_claim() -> None:
    assert binomial.trials_for_lower_bound(0.95, 0.95) == 59
    assert binomial.trials_for_lower_bound(0.9, 0.95) == 29
    assert binomial.trials_for_upper_bound(0.05, 0.95) == 59
    assert binomial.trials_for_lower_bound(1.0, 0.95) is None and binomial.trials_for_upper_bound(0.0, 0.95) is None
    needed = binomial.trials_for_lower_bound(0.99, 0.9)
    assert needed is not None
    assert binomial.lower_bound(needed, needed, 0.9) >= 0.99 > binomial.lower_bound(needed - 1, needed - 1, 0.9)


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one trial"):
        binomial.lower_bound(0, 0, 0.95)
    with pytest.raises(ValueError, match="successes <= trials"):
        binomial.upper_bound(3, 2, 0.95)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        binomial.interval(1, 2, 1.0)
