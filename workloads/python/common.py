"""What the Python twins share with each other.

Mirrors the workloads' shared conventions (workloads/README.md): ``Node`` is
the C side's ``rt_class_new("Node", 2, 0, NULL)``, a class with two slots
that start empty.
"""

__all__ = ['Node']


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
