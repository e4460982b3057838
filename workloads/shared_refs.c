/* shared_refs.c -- threads taking and dropping references to shared objects.
 *
 * What it measures: reference counting on objects every thread uses, the
 * pattern where atomic counts contend.  Thread 0 builds a dict of `keys`
 * entries (string keys, boxed-int values) before the others start; then
 * each thread does its share of n steps: look a random key up (its own
 * SplitMix64 stream, seeded with its index), take a reference to the value
 * and hold it in a window of `hold` references, dropping the oldest.  The
 * dict is only read while the threads run.  In the biased variant the
 * objects are thread 0's: its references are local, the others' shared --
 * unless perthread is 1 (the default), where thread 0 gives each value
 * per-thread counts before the others start (rt_object_enable_thread_counts,
 * as CPython 3.14 counts types, code objects and globals): then no count is
 * shared.  The other variants have no per-thread counts and ignore it.
 *
 * Twin: python/shared_refs.py.
 */
#include "parallel.h"
#include "prng.h"

#include <stdlib.h>

enum { P_KEYS, P_N, P_HOLD, P_PERTHREAD, P_THREADS };

#define MAX_HOLD 64

typedef struct Shared {
    const int64_t *params;
    RtObject *dict;
    RtObject **keys;        /* the key objects, read by every thread */
} Shared;

static int
build(Shared *sh, int64_t nkeys, bool perthread)
{
    if ((sh->dict = rt_dict_new()) == NULL)
        return -1;
    for (int64_t i = 0; i < nkeys; i++) {
        RtObject *key = rt_str_printf("k%lld", (long long)i), *value = NULL;
        int status = key != NULL && (value = rt_int_from(1000 + i)) != NULL ? rt_dict_set(sh->dict, key, value) : -1;
        if (status == 0 && perthread)
            status = rt_object_enable_thread_counts(value);
        rt_xdecref(value);
        sh->keys[i] = key;      /* owned by the table: dropped by teardown */
        if (status < 0)
            return -1;
        /* The lookup below caches the key's hash while only we run. */
        if (rt_dict_get(sh->dict, key) == NULL)
            return -1;
    }
    return 0;
}

static void
teardown(Shared *sh, int64_t nkeys)
{
    for (int64_t i = 0; i < nkeys; i++)
        rt_xdecref(sh->keys[i]);
    rt_xdecref(sh->dict);
}

/* One thread's share of the steps; adds the values it saw to *check. */
static int
read_share(void *arg, int index, int threads, int64_t *check)
{
    const Shared *sh = arg;
    const int64_t nkeys = sh->params[P_KEYS], hold = sh->params[P_HOLD];
    const int64_t steps = rt_workload_share(sh->params[P_N], index, threads);
    RtObject *held[MAX_HOLD] = {NULL};
    RtPrng r;
    rt_prng_seed(&r, (uint64_t)index + 1);
    int64_t slot = 0;       /* s % hold, without a division: see below */
    for (int64_t s = 0; s < steps; s++) {
        RtObject *value = rt_dict_get(sh->dict, sh->keys[rt_prng_below(&r, (uint64_t)nkeys)]);
        *check += rt_int_value(value);
        rt_incref(value);
        rt_xdecref(held[slot]);
        held[slot] = value;
        /* A counter that wraps, not s % hold: a 64-bit idiv a step cost
         * as much as the counting measured, and whether the compiler kept
         * hold in a register decided a variant's time (one thread,
         * --perthread 0: biased 0.41 s against nonatomic's 0.33 s with
         * it, about 0.30 s each without). */
        if (++slot == hold)
            slot = 0;
        if ((s & 1023) == 0)
            rt_thread_safepoint();      /* no allocation here: let a collection in */
    }
    for (int64_t i = 0; i < hold; i++)
        rt_xdecref(held[i]);
    return 0;
}

static int
run_shared_refs(RtWorkloadCtx *ctx, const int64_t *params)
{
    const int64_t nkeys = params[P_KEYS];
    if (nkeys < 1 || params[P_HOLD] < 1 || params[P_HOLD] > MAX_HOLD || params[P_PERTHREAD] > 1) {
        rt_error_set(RT_ERR_VALUE, "shared_refs: keys must be at least 1, hold 1 to %d, perthread 0 or 1", MAX_HOLD);
        return -1;
    }
    Shared sh = {params, NULL, calloc((size_t)nkeys, sizeof(RtObject *))};
    if (sh.keys == NULL) {
        rt_error_set(RT_ERR_NOMEM, "out of memory");
        return -1;
    }
    int64_t check = 0;
    int status = build(&sh, nkeys, params[P_PERTHREAD] == 1) == 0 ? rt_workload_parallel(ctx, params[P_THREADS], read_share, &sh, &check) : -1;
    teardown(&sh, nkeys);
    free(sh.keys);
    if (status == 0)
        rt_workload_result_int(ctx, "check", check);
    return status;
}

const RtWorkload rt_workload_shared_refs = {
    .name = "shared_refs",
    .description = "threads look up a shared dict and take and drop references to its values",
    .params = {
        {"keys", 1000, 1, 0, "entries of the shared dict"},
        {"n", 10000000, 0, 0, "lookups in all, each taking one reference and dropping one"},
        {"hold", 8, 1, MAX_HOLD, "references each thread holds at a time"},
        {"perthread", 1, 0, 1, "1: the values are counted per thread (biased variant; others ignore it)"},
        RT_WORKLOAD_THREADS_PARAM,
    },
    .run = run_shared_refs,
};
