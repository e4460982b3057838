#!/usr/bin/python3
"""Reference values for tests/test_stats.c, computed with Debian's scipy.

Prints one JSON array of cases on stdout.  Each case has the samples a and
b (shortest round-trip reprs, so the C side reads the same doubles) and:
  mwu   scipy.stats.mannwhitneyu(a, b, alternative='two-sided') (method
        'auto', scipy 1.10): U1, p, and the method scipy chose;
  hl    the Hodges-Lehmann estimate of b - a and its 95% interval as R's
        wilcox.test(conf.int=TRUE) computes it: k = qwilcox(0.025, na, nb)
        from scipy's exact null distribution (_mwu_state.cdf), at least 1;
        [D(k), D(na*nb+1-k)] of the sorted differences; only for sizes
        under 50;
  exact_int  for large sizes scipy's exact method is too slow (42 s for 8
        against 1024): the exact two-sided p from the q-binomial in Python
        integers, an independent computation.
And a list 'median_ci': n, j and coverage from scipy.stats.binom.

Exit status 77 when scipy is missing (the C test then skips this part).
"""
import json
import math
import sys

try:
    import numpy as np
    from scipy import stats
    from scipy.stats._mannwhitneyu import _mwu_state
except ImportError as e:
    sys.stderr.write('stats_reference.py: %s (install python3-scipy)\n' % e)
    sys.exit(77)


def qwilcox(p, m, n):
    q = 0
    while _mwu_state.cdf(q, m, n) < p:
        q += 1
    return q


def hl(a, b):
    d = sorted(y - x for x in a for y in b)
    mn = len(d)
    k = max(1, qwilcox(0.025, len(a), len(b)))
    est = (d[mn // 2] if mn % 2 else (d[mn // 2 - 1] + d[mn // 2]) / 2)
    return {'k': k, 'estimate': est, 'low': d[k - 1], 'high': d[mn - k],
            'coverage': 1 - 2 * float(_mwu_state.cdf(k - 1, len(a), len(b)))}


def exact_int_p(a, b):
    """Two-sided exact p with Python integers: counts of U from the
    q-binomial [m+n choose m] by polynomial multiplication and division."""
    m, n = len(a), len(b)
    u1 = sum((x > y) + 0.5 * (x == y) for x in a for y in b)
    u = max(u1, m * n - u1)
    c = [1] + [0] * (m * n)
    for i in range(1, min(m, n) + 1):
        big, a_ = max(m, n), max(m, n) + i
        for k in range(m * n, a_ - 1, -1):
            c[k] -= c[k - a_]
        for k in range(i, m * n + 1):
            c[k] += c[k - i]
    total = sum(c)
    tail = sum(c[int(u):])
    return min(1.0, 2 * tail / total)


def case(a, b, with_hl=True):
    r = stats.mannwhitneyu(a, b, alternative='two-sided')
    xy = np.concatenate([a, b])
    method = 'exact' if not ((len(a) > 8 and len(b) > 8) or len(np.unique(xy)) < len(xy)) else 'asymptotic'
    out = {'a': [float(x) for x in a], 'b': [float(x) for x in b],
           'mwu': {'u1': float(r.statistic), 'p': float(r.pvalue), 'method': method}}
    if with_hl and len(a) < 50 and len(b) < 50:
        out['hl'] = hl(list(out['a']), list(out['b']))
    return out


def main():
    rng = np.random.default_rng(20261130)
    cases = []
    # Small sizes, log-normal timings, with and without a shift; some rounded
    # so that ties appear (then scipy goes asymptotic).
    for na in (1, 2, 3, 4, 5, 6, 7, 8, 9, 12):
        for nb in (1, 3, 5, 8, 9, 15):
            for shift in (0.0, 0.1, 0.5):
                a = np.exp(rng.normal(0, 0.1, na))
                b = np.exp(rng.normal(shift, 0.1, nb))
                cases.append(case(a, b))
                cases.append(case(np.round(a, 1), np.round(b, 1)))
    # Sizes where R's exact k and its interval matter, and the normal k.
    for na, nb in ((10, 10), (20, 20), (15, 25), (49, 49), (30, 7)):
        a = np.exp(rng.normal(0, 0.05, na))
        b = np.exp(rng.normal(0.03, 0.05, nb))
        cases.append(case(a, b))
    # Every value the same: p = 1.
    cases.append(case(np.ones(5), np.ones(5)))
    # Constant but different sides (identical instruction counts): ties.
    cases.append(case(np.full(5, 1000.0), np.full(5, 1010.0)))
    # Exact at a moderate size, checked against scipy itself.
    cases.append(case(rng.random(8), rng.random(100) + 0.05))
    cases.append(case(rng.random(5), rng.random(40) + 0.3))
    # 8 against 1024 (defect 11 of issue 14): the exact method, p from Python
    # integers since scipy's own exact takes 42 s here.
    a, b = rng.random(8) + 0.2, rng.random(1024)
    big = {'a': [float(x) for x in a], 'b': [float(x) for x in b], 'exact_int': exact_int_p(list(a), list(b))}
    a, b = rng.random(3), rng.random(600) + 0.3
    big2 = {'a': [float(x) for x in a], 'b': [float(x) for x in b], 'exact_int': exact_int_p(list(a), list(b))}
    # The median's interval: j = the largest with P(Bin(n, 1/2) <= j-1) <= 0.025.
    med = []
    for n in (1, 2, 5, 6, 7, 10, 20, 50, 101):
        j = 1
        while j + 1 <= (n + 1) // 2 and stats.binom.cdf(j, n, 0.5) <= 0.025:
            j += 1
        med.append({'n': n, 'j': j, 'coverage': float(1 - 2 * stats.binom.cdf(j - 1, n, 0.5))})
    json.dump({'cases': cases, 'large': [big, big2], 'median_ci': med,
               'min_p_9v9': float(stats.mannwhitneyu(np.arange(9), np.arange(9) + 100,
                                                     alternative='two-sided').pvalue)}, sys.stdout)


if __name__ == '__main__':
    main()
