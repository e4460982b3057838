/* bench_ceiling.c -- the machine's own scaling, beside which scripts/scaling
 * reads the runtime's.
 *
 * Each thread walks nodes of its own (64 bytes, one cache line each),
 * bumping a count in each: a dependent load and a store a step, as a
 * collector's pass over objects does, and nothing shared.
 *
 *   ceiling_walk/threads:T    8,192 nodes (512 KiB: within a core's L2 on
 *                             most machines) in one random cycle: what the
 *                             cores give work that stays in their caches.
 *   ceiling_stream/threads:T  1,048,576 nodes (64 MiB: past most machines'
 *                             L3) in address order: what the memory gives
 *                             T threads at once -- as a collection's passes
 *                             do, each a walk through the objects being
 *                             collected, in their pools' address order,
 *                             megabytes long.
 *
 * A machine that runs T threads at full speed shows 1/T of one thread's
 * real time per step at threads:T (Google Benchmark counts every thread's
 * iterations).  On the 2-core VM the project is developed on, two threads
 * walked 1.7-2.4 times as fast as one and streamed 1.0-1.7 times as fast
 * (five runs of the walk, eight of the stream): one thread's stream takes
 * most of the VM's memory bandwidth.  A stop-the-world collection runs its
 * passes on every thread at once, so it is bound by the second figure, not
 * the first.
 */
#include "micro.h"
#include "prng.h"

#include <stdlib.h>
#include <string.h>

typedef struct CeilingNode {
    struct CeilingNode *next;
    uint64_t count;
    char pad[48];
} CeilingNode;

_Static_assert(sizeof(CeilingNode) == 64, "a node is one cache line");

typedef struct CeilingCase {
    const char *family;
    uint32_t nodes;
    bool shuffled;      /* one random cycle; else address order */
} CeilingCase;

static const CeilingCase cases[] = {
    {"ceiling_walk", 8192, true},
    {"ceiling_stream", 1u << 20, false},
};

/* Link nodes[0..n) into one cycle, in address order or (shuffled) in a
 * random order of the seed's; returns where the walk starts, or NULL when
 * out of memory. */
static CeilingNode *
link_cycle(CeilingNode *nodes, uint32_t n, bool shuffled, uint64_t seed)
{
    uint32_t *order = malloc(n * sizeof *order);
    if (order == NULL)
        return NULL;
    for (uint32_t i = 0; i < n; i++)
        order[i] = i;
    RtPrng rng;
    rt_prng_seed(&rng, seed);
    for (uint32_t i = n - 1; shuffled && i > 0; i--) {
        uint32_t j = (uint32_t)rt_prng_below(&rng, i + 1), t = order[i];
        order[i] = order[j], order[j] = t;
    }
    for (uint32_t i = 0; i < n; i++)
        nodes[order[i]].next = &nodes[order[(i + 1) % n]];
    CeilingNode *first = &nodes[order[0]];
    free(order);
    return first;
}

static void
bench_ceiling(RtBenchState *st, void *arg)
{
    const CeilingCase *c = arg;
    CeilingNode *nodes = aligned_alloc(sizeof(CeilingNode), c->nodes * sizeof *nodes);
    CeilingNode *n = nodes == NULL ? NULL : link_cycle(nodes, c->nodes, c->shuffled,
                                                       7 + (uint64_t)rt_bench_thread_index(st));
    if (n == NULL) {
        free(nodes);
        rt_bench_error(st, "out of memory");
        return;
    }
    for (uint32_t i = 0; i < c->nodes; i++)
        nodes[i].count = 0;
    while (rt_bench_keep_running(st, c->nodes)) {
        for (uint32_t i = 0; i < c->nodes; i++) {
            n->count++;
            n = n->next;
        }
    }
    RT_BENCH_ESCAPE(n);
    free(nodes);
}

void
rt_micro_register_ceiling(void)
{
    static const int threads[] = {1, 2, 4, 8, 16};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++)
            rt_bench_register_threads(cases[k].family, bench_ceiling, (void *)&cases[k], threads[i]);
}
