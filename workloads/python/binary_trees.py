"""binary_trees: the Python twin of workloads/binary_trees.c.

The benchmarks-game binary-trees program with Nodes as tree nodes
(``next`` is the left child, ``other`` the right one; a leaf has neither):
a long-lived tree of ``depth`` stays alive while, for each even depth d
from 4 to ``depth``, 2**(depth - d + 4) short-lived trees of depth d are
built, checked and dropped one by one.  With ``threads`` > 1 each thread
builds its share of the short-lived trees, and thread 0 keeps the long-lived
one.
"""

from common import Node, parallel, share

NAME = 'binary_trees'
DESCRIPTION = 'benchmarks-game binary trees: many short-lived trees beside a long-lived one'
PARAMS = {'depth': 16, 'threads': 1}
MINIMUM = {'threads': 1}

MIN_DEPTH = 4


def make_tree(depth):
    """Return a complete binary tree of the given depth (2**(depth+1)-1 Nodes)."""
    node = Node()
    if depth > 0:
        depth -= 1
        node.next = make_tree(depth)
        node.other = make_tree(depth)
    return node


def check_tree(node):
    """Return the number of Nodes in the tree."""
    if node.next is None:
        return 1
    return 1 + check_tree(node.next) + check_tree(node.other)


def run(params, ctx):
    depth = params['depth']

    def part(index, threads):
        long_lived = make_tree(depth) if index == 0 else None
        check = 0
        for d in range(MIN_DEPTH, depth + 1, 2):
            for _ in range(share(1 << (depth - d + MIN_DEPTH), index, threads)):
                check += check_tree(make_tree(d))   # the tree is dropped here
        if long_lived is not None:
            check += check_tree(long_lived)
        del long_lived
        return check

    return {'check': parallel(params['threads'], part)}
