"""SplitMix64, the workloads' random numbers.

Mirrors workloads/prng.h bit for bit, so that a Python twin makes the same
random choices as its C workload for the same --seed.  Python integers are
unbounded, so every step that overflows 64 bits in C is masked here.

Not for cryptography; chosen because it is tiny and trivially the same in
C and Python.
"""

__all__ = ['SplitMix64']

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB


class SplitMix64:
    """The SplitMix64 generator: rt_prng_seed / rt_prng_next / rt_prng_below."""

    __slots__ = ('state',)

    def __init__(self, seed):
        # The C seed is a uint64_t: reduce the Python int the same way.
        self.state = seed & _MASK

    def next(self):
        """Return the next 64-bit unsigned integer."""
        z = self.state = (self.state + _GAMMA) & _MASK
        z = ((z ^ (z >> 30)) * _MUL1) & _MASK
        z = ((z ^ (z >> 27)) * _MUL2) & _MASK
        return z ^ (z >> 31)

    def below(self, n):
        """Return a number in [0, n): the high 64 bits of next() * n, as C's
        128-bit product gives them (not next() % n: see prng.h)."""
        return (self.next() * n) >> 64
