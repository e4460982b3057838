/* test_alloc_stress.c -- randomized allocator stress test.
 *
 * Usage: test_alloc_stress [ITERATIONS] [LIVE] [SEED]
 *
 * For each backend: a working set of up to LIVE slots; each step picks a
 * random slot and either allocates it (random size: mostly small, some
 * large), frees it, or reallocates it.  Every block is filled with a cookie
 * derived from its slot and size; the cookie is checked on every free and
 * realloc, so a block handed out twice, overlapping another, or corrupted
 * by the allocator's own bookkeeping shows up.  A shadow count of live
 * blocks is compared with the allocator's statistics, and the pool's
 * invariants are validated every so often.
 *
 * Do not use this test as a benchmark: it checks every byte.
 */
#include "testhelper.h"
#include "../runtime/src/internal.h"
#include "prng.h"

typedef struct Slot {
    uint8_t *p;
    size_t size;
} Slot;

static uint8_t
cookie(size_t slot, size_t i)
{
    return (uint8_t)((slot * 131 + i * 7) ^ 0x5a);
}

static void
fill(Slot *s, size_t slot)
{
    for (size_t i = 0; i < s->size; i++)
        s->p[i] = cookie(slot, i);
}

static bool
check(const Slot *s, size_t slot, size_t upto)
{
    for (size_t i = 0; i < upto && i < s->size; i++)
        if (s->p[i] != cookie(slot, i))
            return false;
    return true;
}

static size_t
random_size(RtPrng *r)
{
    uint64_t k = rt_prng_below(r, 100);
    if (k < 85)
        return (size_t)rt_prng_below(r, RT_SMALL_REQUEST_THRESHOLD + 1);    /* 0..512 */
    if (k < 98)
        return 513 + (size_t)rt_prng_below(r, 4096);
    return 4096 + (size_t)rt_prng_below(r, 1 << 17);
}

static int
stress(RtAllocKind kind, size_t iterations, size_t live, uint64_t seed)
{
    if (rt_test_init(kind) != 0)
        return 1;
    RtPrng r;
    rt_prng_seed(&r, seed);
    Slot *slots = calloc(live, sizeof *slots);
    int64_t shadow = 0;
    int errors = 0;
    char err[256];
    for (size_t it = 0; it < iterations && errors == 0; it++) {
        size_t k = (size_t)rt_prng_below(&r, live);
        Slot *s = &slots[k];
        uint64_t op = rt_prng_below(&r, 10);
        if (s->p == NULL) {
            s->size = random_size(&r);
            s->p = rt_malloc(s->size);
            if (s->p == NULL) {
                fprintf(stderr, "  %s: allocation of %zu failed\n", rt_alloc_name(kind), s->size);
                errors++;
                break;
            }
            fill(s, k);
            shadow++;
        } else if (op < 7) {
            if (!check(s, k, s->size)) {
                fprintf(stderr, "  %s: block %zu (%zu bytes) corrupted before free\n", rt_alloc_name(kind), k, s->size);
                errors++;
            }
            rt_free(s->p);
            s->p = NULL;
            shadow--;
        } else {
            size_t to = random_size(&r), keep = to < s->size ? to : s->size;
            uint8_t *q = rt_realloc(s->p, to);
            if (q == NULL) {
                errors++;
                break;
            }
            Slot moved = {q, keep};
            if (!check(&moved, k, keep)) {
                fprintf(stderr, "  %s: realloc of block %zu lost its contents\n", rt_alloc_name(kind), k);
                errors++;
            }
            s->p = q;
            s->size = to;
            fill(s, k);
        }
        if (it % 4096 == 0 || it + 1 == iterations) {
            RtAllocStats st;
            rt_alloc_stats(&st);
            if (st.blocks.current != shadow) {
                fprintf(stderr, "  %s: statistics say %lld live blocks, the shadow %lld\n", rt_alloc_name(kind),
                        (long long)st.blocks.current, (long long)shadow);
                errors++;
            }
            if (rti_pools_validate(&rti_runtime.heap.arenas, err, sizeof err) != 0) {
                fprintf(stderr, "  %s: pool invariant broken: %s\n", rt_alloc_name(kind), err);
                errors++;
            }
        }
    }
    for (size_t k = 0; k < live; k++) {
        if (slots[k].p != NULL && !check(&slots[k], k, slots[k].size))
            errors++;
        rt_free(slots[k].p);
    }
    free(slots);
    RtAllocStats st;
    rt_alloc_stats(&st);
    if (st.blocks.current != 0) {
        fprintf(stderr, "  %s: %lld blocks left after freeing everything\n", rt_alloc_name(kind),
                (long long)st.blocks.current);
        errors++;
    }
    rt_alloc_trim();    /* for debug, this also empties the quarantine */
    rt_alloc_stats(&st);
    if (st.small.current != 0 || st.large.current != 0) {
        fprintf(stderr, "  %s: %lld small and %lld large pool blocks left\n", rt_alloc_name(kind),
                (long long)st.small.current, (long long)st.large.current);
        errors++;
    }
    if (st.arenas.current != 0) {
        fprintf(stderr, "  %s: %lld arenas still mapped after trim\n", rt_alloc_name(kind), (long long)st.arenas.current);
        errors++;
    }
    rt_fini();
    printf("%-4s %s: %zu steps, working set %zu\n", errors ? "FAIL" : "ok", rt_alloc_name(kind), iterations, live);
    return errors;
}

int
main(int argc, char **argv)
{
    size_t iterations = argc > 1 ? strtoul(argv[1], NULL, 10) : 400000;
    size_t live = argc > 2 ? strtoul(argv[2], NULL, 10) : 20000;
    uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 42;
    int failed = 0;
    for (int k = 0; k < RT_ALLOC_KIND_COUNT; k++) {
        if (!rt_alloc_available((RtAllocKind)k)) {
            printf("skip %s: %s\n", rt_alloc_name((RtAllocKind)k), rt_alloc_unavailable_reason((RtAllocKind)k));
            continue;
        }
        failed += stress((RtAllocKind)k, iterations, live, seed) != 0;
    }
    return failed;
}
