/* test_invariants.c -- the runtime's invariant checks fire (debug.h).
 *
 * Each test breaks one invariant on purpose, in a forked child, and checks
 * that the child aborts with the check's message: a check that cannot fail
 * is no check.  The broken code is a test type whose slots misbehave the
 * way a real extension's might.  The checks exist from RT_DEBUG=1 (the
 * full walks from 2): the debug, asan and fuzz builds; a release build
 * compiles them out and this test says so and passes.
 */
#include "testhelper.h"
#include "../runtime/src/internal.h"

#if RT_DEBUG >= 1
/* ==== a test type with switchable faults ================================= */

enum { FAULT_NONE, FAULT_VISIT_TWICE, FAULT_DROP_SELF, FAULT_COLLECT_TRACKED };
static int fault;

typedef struct Bad {
    RtObject ob_base;
    RtObject *child;
} Bad;

static void
bad_dealloc(RtObject *op)
{
    if (fault == FAULT_COLLECT_TRACKED) {
        rt_gc_collect(0);       /* still tracked, count 0: the collector must object */
    } else if (fault == FAULT_DROP_SELF) {
        rt_decref(op);          /* a reference it does not hold */
    }
    rt_gc_untrack(op);
    rt_clearref(&((Bad *)op)->child);
    rt_object_free(op);
}

static int
bad_traverse(RtObject *op, RtVisitProc visit, void *arg)
{
    RtObject *child = ((Bad *)op)->child;
    if (child == NULL)
        return 0;
    if (fault == FAULT_VISIT_TWICE)
        visit(child, arg);      /* one reference, visited twice */
    return visit(child, arg);
}

static int
bad_clear(RtObject *op)
{
    rt_clearref(&((Bad *)op)->child);
    return 0;
}

static RtType bad_type = {
    .name = "Bad",
    .basic_size = sizeof(Bad),
    .flags = RT_TYPE_GC,
    .dealloc = bad_dealloc,
    .traverse = bad_traverse,
    .clear = bad_clear,
};

static RtObject *
bad_new(RtObject *child)
{
    Bad *b = (Bad *)rt_object_new(&bad_type);
    b->child = child ? rt_newref(child) : NULL;
    rt_gc_track((RtObject *)b);
    return (RtObject *)b;
}

static void
start(int f)
{
    rt_test_start(700, 10, 10, true);
    fault = f;
}

/* ==== what each child does =============================================== */

static void
visit_twice(void)
{
    start(FAULT_VISIT_TWICE);
    RtObject *child = rt_list_new(0), *b = bad_new(child);
    rt_decref(child);
    rt_gc_collect(0);           /* subtract_refs takes 2 from a count of 1 */
    (void)b;
}

static void
drop_self(void)
{
    start(FAULT_DROP_SELF);
    rt_decref(bad_new(NULL));
}

static void
collect_while_tracked(void)
{
    start(FAULT_COLLECT_TRACKED);
    rt_decref(bad_new(NULL));
}

static void
list_op_on_a_dict(void)
{
    start(FAULT_NONE);
    RtObject *d = rt_dict_new();
    rt_list_append(d, d);
}

static void
track_a_str(void)
{
    start(FAULT_NONE);
    rt_gc_track(rt_str_from_cstr("not a collector object"));
}

static void
deposit_a_tracked_object(void)
{
    start(FAULT_NONE);
    rti_trash_begin(rt_list_new(0));    /* tracked, count 1: never the trashcan's */
}
#endif

/* ==== the tests ========================================================== */

TEST(checks_fire)
{
#if RT_DEBUG >= 1
    CHECK(rt_test_dies(visit_twice, "refcount is too small"));
    CHECK(rt_test_dies(drop_self, "a decref without its incref"));
    CHECK(rt_test_dies(collect_while_tracked, "a tracked object with a count of 0"));
    CHECK(rt_test_dies(list_op_on_a_dict, "on a non-list"));
    CHECK(rt_test_dies(track_a_str, "without RT_TYPE_GC"));
    CHECK(rt_test_dies(deposit_a_tracked_object, "the trashcan takes dead, untracked objects"));
#else
    printf("     (RT_DEBUG=0: the checks are compiled out; the debug, asan and fuzz builds run them)\n");
#endif
}

int
main(void)
{
    RUN(checks_fire);
    return rt_test_summary();
}
