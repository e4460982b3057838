"""gc_traversal: the Python twin of workloads/gc_traversal.c.

pyperformance's gc_traversal benchmark: ``levels`` lists, list n holding n
references to list n - 1, all live; each loop runs an untimed gc.collect()
and times a second one, which traverses everything and finds nothing to free.
"""

import gc
from time import perf_counter

NAME = 'gc_traversal'
DESCRIPTION = 'pyperformance gc_traversal: time gc.collect() over levels nested live lists'
PARAMS = {'levels': 1000, 'loops': 100}


def create_recursive_containers(n_levels):
    """Return the top of a chain of n_levels lists (list n holds n references to list n-1)."""
    current_list = []
    for n in range(n_levels):
        new_list = [None] * n
        for index in range(n):
            new_list[index] = current_list
        current_list = new_list
    return current_list


def chain_length(top):
    """Return the sum of len(list) over the chain below and including top."""
    total = 0
    current_list = top
    while current_list:
        total += len(current_list)
        current_list = current_list[0]
    return total


def run(params, ctx):
    levels = params['levels']
    loops = params['loops']
    all_lists = create_recursive_containers(levels)
    collect_s = 0.0
    collected = 0
    for _ in range(loops):
        gc.collect()
        t0 = perf_counter()
        collected += gc.collect()
        collect_s += perf_counter() - t0
    check = chain_length(all_lists)
    del all_lists
    return {'check': check, 'collect_s': collect_s, 'collected': collected}
