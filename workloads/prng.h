/* prng.h -- SplitMix64, the workloads' random numbers.
 *
 * The Python twins implement the same generator (python/prng.py), so a
 * workload makes the same choices on both sides for the same --seed.
 * Not for cryptography; chosen because it is tiny, fast, and trivially the
 * same in C and Python.
 */
#ifndef RT_WORKLOADS_PRNG_H
#define RT_WORKLOADS_PRNG_H

#include <stdint.h>

typedef struct RtPrng {
    uint64_t state;
} RtPrng;

static inline void rt_prng_seed(RtPrng *p, uint64_t seed) { p->state = seed; }

static inline uint64_t
rt_prng_next(RtPrng *p)
{
    uint64_t z = (p->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A number in [0, n): the high half of next() * n, a 128-bit product
 * (Lemire's multiply-shift; the same on both sides, its bias of at most
 * n / 2^64 too).  Not next() % n: a 64-bit division on the step's
 * critical path was 30% of shared_refs' time in every variant (0.32 s
 * against 0.22 s nonatomic, one thread), time that measured no count. */
static inline uint64_t
rt_prng_below(RtPrng *p, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rt_prng_next(p) * n) >> 64);
}

#endif /* RT_WORKLOADS_PRNG_H */
