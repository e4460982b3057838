/* dict_churn.c -- a dict of `keys` entries whose keys and values turn over.
 *
 * What it measures: the dict's compact table under a steady churn of
 * inserts and deletes (deleted entries pile up in the entry array until it
 * is full and a resize compacts it, every keys steps or so), and the
 * allocator's reuse of short-lived
 * blocks: each step frees a key, a two-item list and a boxed int and makes
 * new ones of the same sizes.  The lists are GC objects, but each step
 * makes one and frees one, so after the fill the young count stands still
 * and collections come only from the fill.
 *
 * Twin: python/dict_churn.py.
 */
#include "parallel.h"

enum { P_KEYS, P_N, P_THREADS };

/* d["k%d" % j] = [j, j] -- in CPython's order: the value, then the key
 * ("k" and j's digits: rt_str_from_int, no stdio). */
static int
put(RtObject *d, int64_t j)
{
    RtObject *box = NULL, *value = NULL, *key = NULL;
    int status = -1;
    if ((box = rt_int_from(j)) == NULL || (value = rt_list_new(2)) == NULL)
        goto done;
    if (rt_list_set(value, 0, box) < 0 || rt_list_set(value, 1, box) < 0)
        goto done;
    if ((key = rt_str_from_int("k", j)) == NULL)
        goto done;
    status = rt_dict_set(d, key, value);
done:
    rt_xdecref(key);
    rt_xdecref(value);
    rt_xdecref(box);
    return status;
}

/* del d["k%d" % j] */
static int
del(RtObject *d, int64_t j)
{
    RtObject *key = rt_str_from_int("k", j);
    if (key == NULL)
        return -1;
    int status = rt_dict_del(d, key);
    rt_decref(key);
    return status;
}

/* Fill d, then churn it: each step inserts key j and deletes key j - keys. */
static int
fill_and_churn(RtObject *d, int64_t keys, int64_t n)
{
    for (int64_t i = 0; i < keys; i++)
        if (put(d, i) < 0)
            return -1;
    for (int64_t s = 0; s < n; s++) {
        int64_t j = keys + s;
        if (put(d, j) < 0 || del(d, j - keys) < 0)
            return -1;
    }
    return 0;
}

/* The checksum: the first item of each value still in the dict. */
static int64_t
sum_first_items(RtObject *d)
{
    int64_t sum = 0;
    intptr_t pos = 0;
    RtObject *key, *value;
    while (rt_dict_next(d, &pos, &key, &value))
        sum += rt_int_value(rt_list_get(value, 0));
    return sum;
}

/* One thread's dict: keys entries, its share of the steps. */
static int
churn_share(void *arg, int index, int threads, int64_t *check)
{
    const int64_t *params = arg;
    RtObject *d = rt_dict_new();
    if (d == NULL)
        return -1;
    if (fill_and_churn(d, params[P_KEYS], rt_workload_share(params[P_N], index, threads)) < 0) {
        rt_decref(d);       /* no cycles: reference counting frees it all */
        return -1;
    }
    *check += sum_first_items(d);
    rt_decref(d);
    return 0;
}

static int
run_dict_churn(RtWorkloadCtx *ctx, const int64_t *params)
{
    int64_t check = 0;
    if (rt_workload_parallel(ctx, params[P_THREADS], churn_share, (void *)params, &check) < 0)
        return -1;
    rt_workload_result_int(ctx, "check", check);
    return 0;
}

const RtWorkload rt_workload_dict_churn = {
    .name = "dict_churn",
    .description = "a dict of keys entries; n steps each insert one key and delete the oldest",
    .params = {
        {"keys", 10000, 0, 0, "entries the dict holds"},
        {"n", 2000000, 0, 0, "steps, each one insert and one delete"},
        RT_WORKLOAD_THREADS_PARAM,
    },
    .run = run_dict_churn,
};
