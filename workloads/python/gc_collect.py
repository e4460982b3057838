"""gc_collect: the Python twin of workloads/gc_collect.c.

pyperformance's gc_collect benchmark, with the shared Node (its ``prev`` is
our ``other``): each loop runs an untimed gc.collect(), builds ``cycles``
rings of ``links + 1`` Nodes held in a list, drops the list, and times the
gc.collect() that frees the rings.
"""

import gc
from time import perf_counter

from common import Node

NAME = 'gc_collect'
DESCRIPTION = "pyperformance gc_collect: time gc.collect() freeing cycles rings of links+1 Nodes"
PARAMS = {'cycles': 100, 'links': 20, 'loops': 2000}


def create_cycle(node, n_links):
    """Close a ring of n_links new Nodes after node (nothing when 0)."""
    if n_links == 0:
        return
    current = node
    for _ in range(n_links):
        next_node = Node()
        current.next = next_node
        next_node.other = current
        current = next_node
    current.next = node
    node.other = current


def create_gc_cycles(n_cycles, n_links):
    """Return a list holding n_cycles rings of n_links + 1 Nodes each."""
    cycles = []
    for _ in range(n_cycles):
        node = Node()
        cycles.append(node)
        create_cycle(node, n_links)
    return cycles


def run(params, ctx):
    cycles = params['cycles']
    links = params['links']
    loops = params['loops']
    collect_s = 0.0
    check = 0
    for _ in range(loops):
        gc.collect()
        all_cycles = create_gc_cycles(cycles, links)
        del all_cycles
        t0 = perf_counter()
        collected = gc.collect()
        collect_s += perf_counter() - t0
        check += collected
    return {'check': check, 'collect_s': collect_s}
