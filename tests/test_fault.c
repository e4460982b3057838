/* test_fault.c -- fault-injection walks over every type's operations.
 *
 * Each script below runs a sequence of one type's operations the way a
 * careful caller does: every call checked, everything released on the first
 * failure.  The walk first counts a script's allocations (arming the fault
 * far away and reading how far the countdown moved), then for every N in
 * 1..count runs the script with the Nth allocation failing -- once
 * (transient) and from then on (persistent) -- and checks, each time, that:
 *   - the script either succeeded or failed with RT_ERR_NOMEM;
 *   - nothing leaked (live blocks and objects are back where they were);
 *   - the pool's invariants hold (rti_pools_validate);
 *   - a full collection afterwards finds nothing (no half-built cycle).
 * In the style of SQLite's malloc tests.
 */
#include "testhelper.h"
#include "../runtime/src/internal.h"

typedef int (*Script)(void);

#define TRY(expr)               \
    do {                        \
        if ((expr) < 0)         \
            goto fail;          \
    } while (0)
#define TRYP(var, expr)         \
    do {                        \
        if (((var) = (expr)) == NULL) \
            goto fail;          \
    } while (0)

static int
script_scalars(void)
{
    RtObject *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    TRYP(a, rt_int_from(1 << 20));
    TRYP(b, rt_str_from_cstr("hello, world"));
    TRYP(c, rt_str_printf("%0200d", 7));   /* past the small buffer */
    rt_clearref(&c);
    TRYP(c, rt_str_printf("k%d", 7));       /* without stdio */
    rt_clearref(&c);
    TRYP(c, rt_str_from_int("key", 1234567));
    TRYP(d, rt_int_from(5));                /* small: no allocation */
    rt_decref(a);
    rt_decref(b);
    rt_decref(c);
    return 0;
fail:
    rt_xdecref(a);
    rt_xdecref(b);
    rt_xdecref(c);
    return -1;
}

static int
script_tuples(void)
{
    RtObject *x = NULL, *t = NULL, *u = NULL;
    TRYP(x, rt_str_from_cstr("x"));
    TRYP(t, rt_tuple_pack(3, x, x, x));
    TRYP(u, rt_tuple_new(2));
    rt_tuple_init_item(u, 0, t);
    rt_tuple_init_item(u, 1, x);
    rt_decref(u);
    rt_decref(t);
    rt_decref(x);
    return 0;
fail:
    rt_xdecref(u);
    rt_xdecref(t);
    rt_xdecref(x);
    return -1;
}

static int
script_lists(void)
{
    RtObject *l = NULL, *v = NULL, *m = NULL;
    TRYP(l, rt_list_new(0));
    for (int i = 0; i < 300; i++) {
        TRYP(v, rt_int_from(1000 + i));
        TRY(rt_list_append(l, v));  /* growth reallocates */
        rt_clearref(&v);
    }
    TRYP(v, rt_str_from_cstr("mid"));
    TRY(rt_list_insert(l, 150, v));
    TRY(rt_list_set(l, 0, v));
    rt_clearref(&v);
    while (rt_list_size(l) > 10)    /* shrinking reallocates; never fails */
        rt_decref(rt_list_pop(l, -1));
    TRYP(m, rt_list_new(5));
    TRY(rt_list_append(l, m));
    TRY(rt_list_clear(m));
    rt_decref(m);
    rt_decref(l);
    return 0;
fail:
    rt_xdecref(v);
    rt_xdecref(m);
    rt_xdecref(l);
    return -1;
}

static int
script_dicts(void)
{
    RtObject *d = NULL, *k = NULL, *v = NULL;
    TRYP(d, rt_dict_new());
    for (int i = 0; i < 200; i++) {
        TRYP(k, rt_str_printf("key%d", i));
        TRYP(v, rt_list_new(0));
        TRY(rt_dict_set(d, k, v));  /* growth resizes */
        rt_clearref(&k);
        rt_clearref(&v);
    }
    for (int i = 0; i < 200; i += 2) {
        TRYP(k, rt_str_printf("key%d", i));
        TRY(rt_dict_del(d, k));
        rt_clearref(&k);
    }
    for (int i = 200; i < 400; i++) {   /* churn: resizes in place */
        TRYP(k, rt_str_printf("key%d", i));
        TRY(rt_dict_set(d, k, k));
        rt_clearref(&k);
    }
    rt_decref(d);
    return 0;
fail:
    rt_xdecref(k);
    rt_xdecref(v);
    rt_xdecref(d);
    return -1;
}

static RtType *fault_class;

static int
script_instances_and_weakrefs(void)
{
    RtObject *a = NULL, *b = NULL, *w = NULL, *arg = NULL;
    TRYP(a, rt_instance_new(fault_class));
    TRYP(b, rt_instance_new(fault_class));
    TRY(rt_instance_set(a, 0, b));
    TRY(rt_instance_set(b, 0, a));     /* a cycle */
    TRYP(arg, rt_list_new(0));
    TRYP(w, rt_weakref_new(b, NULL, arg));
    rt_clearref(&arg);
    rt_clearref(&a);
    rt_clearref(&b);
    /* The collection itself allocates nothing; it frees the cycle. */
    if (rt_gc_collect(2) < 0)
        goto fail;
    if (rt_weakref_get(w) != NULL)
        rt_error_set(RT_ERR_STATE, "weakref still alive");
    rt_decref(w);
    return 0;
fail:
    rt_xdecref(arg);
    rt_xdecref(w);
    if (a != NULL && b != NULL) {
        rt_instance_set(a, 0, NULL);
        rt_instance_set(b, 0, NULL);
    }
    rt_xdecref(a);
    rt_xdecref(b);
    return -1;
}

/* Cycles built and dropped with automatic collections running (the
 * threshold is low, so collections happen inside failing allocations). */
static int
script_cycles_under_collection(void)
{
    for (int i = 0; i < 300; i++) {
        RtObject *l = rt_list_new(0), *d = NULL;
        if (l == NULL)
            return -1;
        if ((d = rt_dict_new()) == NULL || rt_list_append(l, d) < 0 || rt_dict_set(d, l, l) < 0) {
            rt_xdecref(d);
            rt_list_clear(l);
            rt_decref(l);
            return -1;
        }
        rt_decref(d);
        rt_decref(l);
    }
    return 0;
}

static struct {
    const char *name;
    Script script;
} scripts[] = {
    {"scalars", script_scalars},
    {"tuples", script_tuples},
    {"lists", script_lists},
    {"dicts", script_dicts},
    {"instances_and_weakrefs", script_instances_and_weakrefs},
    {"cycles_under_collection", script_cycles_under_collection},
};

/* Run one script with the Nth allocation failing; check the aftermath. */
static bool
run_faulted(Script script, uint64_t n, bool persistent)
{
    RtTestMark before = rt_test_mark();
    rt_error_clear();
    rt_fault_inject(n, persistent);
    int r = script();
    uint64_t fired = rt_fault_fired();
    rt_fault_inject(0, false);
    bool ok = true;
    if (r < 0 && rt_error() != RT_ERR_NOMEM) {
        fprintf(stderr, "  N=%llu: failed with '%s', not out of memory\n", (unsigned long long)n, rt_error_message());
        ok = false;
    }
    if (r < 0 && fired == 0) {
        fprintf(stderr, "  N=%llu: failed with no fault fired\n", (unsigned long long)n);
        ok = false;
    }
    rt_gc_collect(2);
    RtTestMark after = rt_test_mark();
    if (after.blocks != before.blocks || after.objects != before.objects) {
        fprintf(stderr, "  N=%llu%s: leaked %lld blocks, %lld objects\n", (unsigned long long)n,
                persistent ? " (persistent)" : "", (long long)(after.blocks - before.blocks),
                (long long)(after.objects - before.objects));
        ok = false;
    }
    char err[256];
    if (rti_pools_validate(&rti_runtime.heap.arenas, err, sizeof err) != 0) {
        fprintf(stderr, "  N=%llu: %s\n", (unsigned long long)n, err);
        ok = false;
    }
    return ok;
}

static int total_sites;

static void
walk(const char *name, Script script)
{
    rt_fault_inject(UINT64_MAX, false);
    RtTestMark before = rt_test_mark();
    CHECK_EQ(script(), 0);
    uint64_t sites = UINT64_MAX - rt_fault_countdown();
    rt_fault_inject(0, false);
    rt_gc_collect(2);
    CHECK_NO_LEAK(before);
    int failures = 0;
    for (uint64_t n = 1; n <= sites && failures < 5; n++) {
        failures += !run_faulted(script, n, false);
        failures += !run_faulted(script, n, true);
    }
    CHECK_EQ(failures, 0);
    /* Past the last site nothing fails. */
    CHECK(run_faulted(script, sites + 1, false));
    total_sites += (int)sites;
    printf("     %s: %llu allocation sites walked\n", name, (unsigned long long)sites);
}

TEST(every_allocation_site_of_every_type_fails_cleanly)
{
    for (int backend = 0; backend < 2; backend++) {
        RtConfig cfg;
        rt_config_default(&cfg);
        cfg.alloc = backend == 0 ? RT_ALLOC_POOL : RT_ALLOC_DEBUG;
        cfg.gc_threshold[0] = 50;   /* collections inside the scripts */
        REQUIRE(rt_init_ex(&cfg) == 0);
        fault_class = rt_class_new("Faulty", 1, RT_CLASS_WEAKREF, NULL);
        total_sites = 0;
        for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++)
            walk(scripts[i].name, scripts[i].script);
        CHECK(total_sites > 500);
        rt_fini();
    }
}

int
main(void)
{
    RUN(every_allocation_site_of_every_type_fails_cleanly);
    return rt_test_summary();
}
