"""cycle_storm: the Python twin of workloads/cycle_storm.c.

Each round makes ``n`` small reference cycles of Nodes, cycling through
three shapes (a pair, a self-reference, a ring of ``ring`` Nodes), holds
each cycle's first Node in a list, then drops the list: from then on only
the cycle collector can free the cycles.  With ``threads`` > 1 each thread
does every round with its share of the cycles (a range of 0..n-1, each
cycle's shape by its index), so that the live heap stays one thread's.
"""

from common import Node, parallel, span

NAME = 'cycle_storm'
DESCRIPTION = 'rounds of n small cycles (pairs, self-references, rings), then dropped'
PARAMS = {'n': 100000, 'ring': 8, 'rounds': 10, 'threads': 1}
MINIMUM = {'ring': 1, 'threads': 1}    # a ring needs at least one Node


def _fill(holder, cycles, ring):
    """Append the first Node of each of the new cycles numbered ``cycles``
    (a range) to holder, cycle i of the shape i % 3.

    Return the number of Nodes created.  A function of its own so that, as
    in C, no local variable still refers to a cycle once the round drops
    holder.
    """
    created = 0
    for i in cycles:
        first = Node()
        shape = i % 3
        if shape == 0:          # a pair
            second = Node()
            first.next = second
            second.next = first
            created += 2
        elif shape == 1:        # a self-reference
            first.next = first
            created += 1
        else:                   # a ring of `ring` Nodes
            last = first
            for _ in range(ring - 1):
                node = Node()
                last.next = node
                last = node
            last.next = first
            created += ring
        holder.append(first)
    return created


def run(params, ctx):
    ring = params['ring']

    def part(index, threads):
        cycles = span(params['n'], index, threads)
        created = 0
        for _ in range(params['rounds']):
            holder = []
            created += _fill(holder, cycles, ring)
            del holder          # only the collector frees the cycles now
        return created

    return {'check': parallel(params['threads'], part)}
