"""binary_trees: the Python twin of workloads/binary_trees.c.

The benchmarks-game binary-trees program with Nodes as tree nodes
(``next`` is the left child, ``other`` the right one; a leaf has neither):
a long-lived tree of ``depth`` stays alive while, for each even depth d
from 4 to ``depth``, 2**(depth - d + 4) short-lived trees of depth d are
built, checked and dropped one by one.
"""

from common import Node

NAME = 'binary_trees'
DESCRIPTION = 'benchmarks-game binary trees: many short-lived trees beside a long-lived one'
PARAMS = {'depth': 16}

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
    long_lived = make_tree(depth)
    check = 0
    for d in range(MIN_DEPTH, depth + 1, 2):
        for _ in range(1 << (depth - d + MIN_DEPTH)):
            check += check_tree(make_tree(d))   # the tree is dropped here
    check += check_tree(long_lived)
    del long_lived
    return {'check': check}
