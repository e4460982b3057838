"""long_lived: the Python twin of workloads/long_lived.c.

Each of ``n`` steps makes a garbage pair of Nodes (a cycle, dropped at
once), and every ``max(1, n // m)`` steps, while fewer than ``m`` are held,
also appends a Node to a growing chain of old Nodes.  The young pairs keep
generation 0 busy while the old heap grows, which is where the
full-collection heuristic and the generation-2 pauses show.
"""

from common import Node

NAME = 'long_lived'
DESCRIPTION = 'young garbage pairs while an old heap of up to m Nodes grows'
PARAMS = {'m': 400000, 'n': 2000000}
MINIMUM = {'m': 1}              # n // m


def run(params, ctx):
    m = params['m']
    n = params['n']
    every = n // m or 1         # max(1, n // m) without max's argument tuple
    old = []
    newest = None               # the last Node appended to old
    created = 0
    for i in range(n):
        a = Node()
        b = Node()
        a.next = b
        b.next = a
        del a, b                # garbage now: only the collector frees it
        created += 2
        if i % every == 0 and len(old) < m:
            node = Node()
            node.next = newest
            old.append(node)
            newest = node
            del node
            created += 1
    del old, newest             # drop the old heap (reference counting frees it)
    return {'check': created}
