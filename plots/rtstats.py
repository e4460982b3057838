"""Statistics and number formatting shared by the charts, the summary and the report.

* ``Stat``: the median, range and the median's 95% interval of a set of measurements.
* ``Ratio``: the ratio of two medians with a 95% bootstrap confidence interval
  (seeded, so the same input gives the same interval), and what it means:
  a change *beyond noise* is one whose interval excludes 1.
* ``percentile_positions``: the HdrHistogram-style percentiles of the pause spectrum,
  and how many values each needs before it says anything.
* Formatting: one notation for every figure a person reads -- ``879 ms``,
  ``4.7 µs``, ``243 MiB``, ``0.51×``, ``−19%``.

numpy only; no matplotlib here.
"""

from __future__ import annotations

import math
import statistics
import zlib
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

import numpy as np

MIB = 1024 * 1024
BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95
MIN_SAMPLES_FOR_CI = 3       # fewer: the ratio is shown without an interval
MINUS = "\u2212"             # typographic minus, as in "−19%"


def is_number(value: Any) -> bool:
    """True for a finite int or float (bool excluded)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def plural(n: int, noun: str) -> str:
    """``1 run``, ``3 runs``."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


# ---------------------------------------------------------------------------
# Stat


def median_interval_index(n: int, alpha: float = 0.05) -> int:
    """j of the median's distribution-free interval [x(j), x(n+1-j)]: the
    largest j <= (n+1)/2 with P(Bin(n, 1/2) <= j-1) <= alpha/2, at least 1.
    The harness's rule (harness/stats.c, rtb_median_interval), which writes
    it into every summary's ci95; tests/harness/test_cli.py checks the two
    agree on every result file it reads."""
    def cdf(k: int) -> float:
        return sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    j = 1
    while j + 1 <= (n + 1) // 2 and cdf(j) <= alpha / 2:
        j += 1
    return j


@dataclass(frozen=True)
class Stat:
    """Median and range of a set of measurements (the values kept for resampling)."""

    n: int
    median: float
    min: float
    max: float
    values: tuple = ()

    @classmethod
    def of(cls, values: Iterable[float]) -> Optional["Stat"]:
        """The Stat of ``values``, or None when there are none."""
        vals = sorted(float(v) for v in values)
        if not vals:
            return None
        return cls(len(vals), statistics.median(vals), vals[0], vals[-1], tuple(vals))

    @property
    def low(self) -> float:
        """The median's 95% interval, low end (the median without values)."""
        if len(self.values) < 2:
            return self.median
        return self.values[median_interval_index(len(self.values)) - 1]

    @property
    def high(self) -> float:
        if len(self.values) < 2:
            return self.median
        return self.values[-median_interval_index(len(self.values))]

    @property
    def precision(self) -> float:
        """The interval's larger side over the median (the harness's
        rtb_stat_precision); 0 without an interval or with a median of 0."""
        if len(self.values) < 2 or self.median <= 0:
            return 0.0
        return max(self.median - self.low, self.high - self.median) / self.median

    def scaled(self, factor: float) -> "Stat":
        """The same Stat with every value multiplied by ``factor``."""
        return Stat(self.n, self.median * factor, self.min * factor, self.max * factor,
                    tuple(v * factor for v in self.values))


# ---------------------------------------------------------------------------
# Ratios with bootstrap intervals


def _seed(label: str) -> int:
    """A fixed seed per comparison: the same inputs give the same interval."""
    return zlib.crc32(label.encode("utf-8"))


def _boot_medians(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Medians of BOOTSTRAP_RESAMPLES resamples (with replacement) of ``values``."""
    picks = rng.integers(0, len(values), size=(BOOTSTRAP_RESAMPLES, len(values)))
    return np.median(values[picks], axis=1)


@dataclass(frozen=True)
class Ratio:
    """``median(a) / median(b)`` and its 95% bootstrap interval (None when either
    side has fewer than MIN_SAMPLES_FOR_CI values)."""

    value: float
    low: Optional[float]
    high: Optional[float]
    n_a: int
    n_b: int

    @property
    def has_ci(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def beyond_noise(self) -> bool:
        """The interval excludes 1 (no interval: never)."""
        return self.has_ci and (self.low > 1 or self.high < 1)

    def text(self, what: str = "") -> str:
        """``−19% time [−24, −14]`` near 1, ``×6.2 [5.1, 7.0]`` far from it."""
        name = f" {what}" if what else ""
        if self.value == 0:
            return f"{what + ' ' if what else ''}fell to 0"
        if 0.5 <= self.value <= 2:
            main = format_change(self.value) + name
            if self.has_ci:
                main += (f" [{format_change(self.low, sign=True, unit=False)}, "
                         f"{format_change(self.high, sign=True, unit=False)}]")
            return main
        main = f"{what + ' ' if what else ''}×{format_factor(self.value)}"
        if self.has_ci:
            main += f" [{format_factor(self.low)}, {format_factor(self.high)}]"
        return main

    def ci_text(self) -> str:
        """``[0.81, 0.93]`` or ``no interval (n=2)``."""
        if not self.has_ci:
            return f"no interval (n={min(self.n_a, self.n_b)})"
        return f"[{self.low:.3g}, {self.high:.3g}]"


def ratio_of_medians(a: Sequence[float], b: Sequence[float], label: str) -> Optional[Ratio]:
    """``median(a) / median(b)`` with a seeded percentile-bootstrap 95% interval.

    The two sides are resampled independently.  None when a side is empty or
    ``b``'s median is 0.
    """
    va, vb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not len(va) or not len(vb):
        return None
    mb = float(np.median(vb))
    if mb == 0:
        return None
    value = float(np.median(va)) / mb
    if min(len(va), len(vb)) < MIN_SAMPLES_FOR_CI:
        return Ratio(value, None, None, len(va), len(vb))
    rng = np.random.default_rng(_seed(label))
    boot_b = _boot_medians(vb, rng)
    boot_a = _boot_medians(va, rng)
    ok = boot_b != 0
    ratios = boot_a[ok] / boot_b[ok]
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return Ratio(value, float(low), float(high), len(va), len(vb))


def median_interval(values: Sequence[float], label: str) -> Optional[Ratio]:
    """The median of ``values`` and its 95% bootstrap interval, in a Ratio (as
    if divided by 1), for absolute figures drawn like ratios."""
    vals = np.asarray(values, dtype=float)
    if not len(vals):
        return None
    value = float(np.median(vals))
    if len(vals) < MIN_SAMPLES_FOR_CI:
        return Ratio(value, None, None, len(vals), len(vals))
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(_boot_medians(vals, np.random.default_rng(_seed(label))),
                              [tail, 100 - tail])
    return Ratio(value, float(low), float(high), len(vals), len(vals))


# ---------------------------------------------------------------------------
# Percentiles of the pause spectrum

# (label, percentile) in the order of the spectrum's x axis; "max" is exact.
SPECTRUM = (("50", 50.0), ("90", 90.0), ("99", 99.0), ("99.9", 99.9), ("99.99", 99.99))
TAIL_VALUES = 10             # a percentile needs this many values at or above it


def values_needed(percentile: float) -> int:
    """How many values a percentile needs: TAIL_VALUES of them at or above it."""
    return math.ceil(round(TAIL_VALUES / (1 - percentile / 100), 6))


def spectrum_position(percentile: float) -> float:
    """x of a percentile on the spectrum axis: log10(1 / (1 - p))."""
    return math.log10(1 / (1 - percentile / 100))


# ---------------------------------------------------------------------------
# Formatting


def time_unit(seconds: float) -> tuple[float, str]:
    """(factor, unit) that show ``seconds`` as a number of at least 1 where possible."""
    for factor, unit in ((1.0, "s"), (1e3, "ms"), (1e6, "µs")):
        if seconds * factor >= 1:
            return factor, unit
    return 1e9, "ns"


def format_seconds(seconds: float) -> str:
    """``879 ms``, ``1.29 s``, ``5.19 ns``: three significant digits and a unit."""
    factor, unit = time_unit(seconds)
    return f"{seconds * factor:.3g} {unit}"


def format_bytes(size: float) -> str:
    """``118 MiB`` (``0.5 MiB`` below 1 MiB)."""
    mib = size / MIB
    return f"{mib:.0f} MiB" if mib >= 10 else f"{mib:.3g} MiB"


def format_ratio(value: float) -> str:
    """``0.51×``, ``6.2×``, ``1.00×``."""
    return f"{value:.2f}×" if value < 10 else f"{value:.3g}×"


def format_factor(value: float) -> str:
    """``6.2``, ``0.31``, ``0.007``, ``48``, ``1,430``: a factor without exponents."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.2g}"


def format_change(ratio: float, sign: bool = True, unit: bool = True) -> str:
    """A ratio near 1 as a signed percentage: ``−19%``, ``+3%``, ``±0%``."""
    pct = (ratio - 1) * 100
    digits = 1 if abs(pct) < 1 and round(pct, 1) != 0 else 0
    text = f"{abs(pct):.{digits}f}"
    if float(text) == 0:
        text = "±" + text
    elif sign:
        text = (MINUS if pct < 0 else "+") + text
    return text + ("%" if unit else "")


def format_threshold(t0: int) -> str:
    """``700``, ``3.2k``, ``100k``: threshold0 for tick labels."""
    if t0 < 1000:
        return str(t0)
    k = t0 / 1000
    return f"{k:.2g}k" if k < 10 else f"{k:.0f}k"
