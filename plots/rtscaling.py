"""The thread-scaling arithmetic: one configuration at T threads against the
same refcount variant at one thread, and against one nonatomic thread.

Shared by ``scripts/scaling`` (its throughput table, on any machine: this
module needs only Python's standard library) and the suite's threads chart
and summary table (``chart_threads.py``, ``summary.py``), so that the two say
the same thing of the same samples.  It reads the samples as the result files
hold them (``wall_s``, ``gc.pauses.total_s`` and ``safepoint_total_s``,
``gc.collections``).

Every thread count does the same total work (``--threads`` splits it), so
throughput is 1 / the median wall time, and a speedup is a ratio of medians.
Each speedup is split in two: that of the time outside collections (the
threads running their work at once) and that of the collections' pauses
(every thread stopped).  A pause holds all the time the world stands once the
others are parked; the time they took to park is recorded apart and belongs
to neither side.  Beside them, the share of all the threads' time that the
stops took: the stoppers' pauses and waits, and the time the others spent
parked (what each thread lost to collections, however many there are).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

# Below this share of one thread's wall time, a workload's collections are
# too short for their speedup to mean anything (a few young collections).
COLLECTIONS_SHARE = 0.05


def middle(xs: list) -> Optional[float]:
    """The median of a list of numbers, the upper one of an even count (as the
    tables have always taken it); None for an empty list."""
    return sorted(xs)[len(xs) // 2] if xs else None


def sample_pauses(sample: dict) -> dict:
    """A sample's pause totals (``gc.pauses``), {} where it has none."""
    return ((sample.get('gc') or {}).get('pauses')) or {}


def pause_totals(samples: Iterable[dict]) -> tuple[Optional[float], Optional[float]]:
    """Medians over the samples of the collections' total and of the time to
    safepoint."""
    pauses = [sample_pauses(s) for s in samples]
    return (middle([p['total_s'] for p in pauses if p.get('total_s') is not None]),
            middle([p['safepoint_total_s'] for p in pauses if p.get('safepoint_total_s') is not None]))


def outside_collections(samples: Iterable[dict]) -> Optional[float]:
    """Median over the samples of the wall time with no collection running:
    the sample's wall time less its collections' pauses (each stops every
    thread, so they do not overlap) and less the time the stoppers waited for
    the others to reach a safepoint; None where the samples have no pauses.
    A pause holds all the time the world stood once parked, its bookkeeping
    too: left in, that made the mutators look not to scale at all (cycle_storm
    at two threads, 0.9x against 1.2x)."""
    walls = [(s.get('wall_s'), sample_pauses(s)) for s in samples]
    return middle([wall - p['total_s'] - (p.get('safepoint_total_s') or 0.0)
                   for wall, p in walls if wall is not None and p.get('total_s') is not None])


def stalled_share(samples: Iterable[dict], threads: int) -> Optional[float]:
    """Median over the samples of the share of the threads' time spent
    stopped for collections: the stoppers' pauses and their waits for a
    safepoint, and the others' time parked (``parked_total_s``; 0 with one
    thread), over threads x the wall time.  None where the samples have no
    pauses, or (above one thread) no time parked: files from before it was
    recorded, whose share would leave the parked threads out."""
    shares = []
    for s in samples:
        p, wall = sample_pauses(s), s.get('wall_s')
        if wall and p.get('total_s') is not None and (threads == 1 or p.get('parked_total_s') is not None):
            stalled = p['total_s'] + (p.get('safepoint_total_s') or 0.0) + (p.get('parked_total_s') or 0.0)
            shares.append(stalled / (threads * wall))
    return middle(shares)


def collection_counts(samples: Iterable[dict]) -> Optional[str]:
    """Each generation's number of collections, median over the samples
    (they vary with the threads' interleaving), as 'young/middle/full'; None
    where the samples have none."""
    counts = [c for c in ((s.get('gc') or {}).get('collections') for s in samples)
              if isinstance(c, list) and len(c) == 3]
    if not counts:
        return None
    return '/'.join('%d' % middle([c[g] for c in counts]) for g in range(3))


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    """a / b, or None where either is missing or zero (no collections)."""
    return a / b if a and b else None


@dataclass
class ScalingRow:
    """One configuration at T threads, set against its variant's one thread
    (``speedup*``) and against one nonatomic thread (``throughput``); None
    where a side is missing."""

    threads: int
    wall: Optional[float]                   # median wall time (s)
    throughput: Optional[float]             # against one nonatomic thread
    speedup: Optional[float]                # against the same variant's one thread
    outside: Optional[float]                # median time outside collections (s)
    speedup_outside: Optional[float]
    collections: Optional[float]            # median total of the pauses (s)
    speedup_collections: Optional[float]    # only where collections are COLLECTIONS_SHARE of one thread's time
    safepoint: Optional[float]              # median total time to safepoint (s)
    stalled: Optional[float]                # share of the threads' time stopped (stalled_share)
    counts: Optional[str]                   # collections per generation, medians


def scaling_row(threads: int, wall: Optional[float], samples: list[dict], nonatomic_wall: Optional[float],
                one_wall: Optional[float], one_samples: Optional[list[dict]]) -> ScalingRow:
    """The row of a configuration at ``threads`` (its median ``wall`` and its
    samples), given one nonatomic thread's median wall time and the same
    variant's one-thread median and samples (None: not run)."""
    collections, safepoint = pause_totals(samples)
    outside = outside_collections(samples)
    one_collections = pause_totals(one_samples)[0] if one_samples is not None else None
    worth_splitting = one_collections and one_wall and one_collections >= COLLECTIONS_SHARE * one_wall
    return ScalingRow(
        threads, wall, ratio(nonatomic_wall, wall), ratio(one_wall, wall),
        outside, ratio(outside_collections(one_samples) if one_samples is not None else None, outside),
        collections, ratio(one_collections, collections) if worth_splitting else None,
        safepoint, stalled_share(samples, threads), collection_counts(samples))


# The throughput table, as scripts/scaling's summary, the suite's summary.md
# and the report's threads chart give it.
TABLE_HEADER = ['workload', 'variant', 'threads', 'wall (s)', 'throughput vs nonatomic×1', 'speedup vs own ×1',
                'outside collections (s)', 'its speedup', 'collections (s)', 'their speedup', 'to safepoint (s)',
                'threads stopped', 'collections (0/1/2)']


def fmt(x: Optional[float], spec: str = '%.2f') -> str:
    return '—' if x is None else spec % x


def table_cells(workload: str, rc: str, row: ScalingRow) -> list[str]:
    """One row of the throughput table (TABLE_HEADER's columns)."""
    return [workload, rc, '%d' % row.threads, fmt(row.wall, '%.3f'), fmt(row.throughput), fmt(row.speedup),
            fmt(row.outside, '%.4f'), fmt(row.speedup_outside), fmt(row.collections, '%.4f'),
            fmt(row.speedup_collections), fmt(row.safepoint, '%.4f'),
            '—' if row.stalled is None else '%.0f%%' % (100 * row.stalled), row.counts or '—']
