"""What the Python twins share with each other.

Mirrors the workloads' shared conventions (workloads/README.md): ``Node`` is
the C side's ``rt_class_new("Node", 2, 0, NULL)``, a class with two slots
that start empty.
"""

import threading

__all__ = ['Node', 'share', 'span', 'parallel']


class Node:
    """A GC-tracked object with two references, ``next`` and ``other``.

    Both start as None, as the C side's slots start as NULL.  (An unset
    slot would raise AttributeError when read, which NULL does not; the
    __init__ call allocates nothing, so each Node() is still exactly one
    GC allocation.)
    """

    __slots__ = ('next', 'other')

    def __init__(self):
        self.next = None
        self.other = None


def share(total, index, threads):
    """Thread index's share of total, the first total % threads one more
    (rt_workload_share in workloads/parallel.h)."""
    return total // threads + (1 if index < total % threads else 0)


def span(total, index, threads):
    """Thread index's share of the items 0..total-1 as a range: consecutive
    ranges in thread order (rt_workload_span in workloads/parallel.h)."""
    extra = total % threads
    first = index * (total // threads) + min(index, extra)
    return range(first, first + share(total, index, threads))


def parallel(threads, body):
    """Run body(index, threads) on ``threads`` threads, the caller being
    thread 0, and return the sum of what they return (the --threads
    parameter: each thread its share of the work).  Under CPython with a GIL
    the threads take turns; a free-threaded build runs them at once.  An
    exception in any thread is raised again here."""
    if threads <= 1:
        return body(0, 1)
    results = [0] * threads
    errors = []

    def part(index):
        try:
            results[index] = body(index, threads)
        except BaseException as e:      # re-raised on the caller's thread
            errors.append(e)

    workers = [threading.Thread(target=part, args=(i,)) for i in range(1, threads)]
    for w in workers:
        w.start()
    part(0)
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return sum(results)
