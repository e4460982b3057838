/* test_gc_cpython.c -- shapes where the collector must do what CPython 3.11
 * does, value for value.
 *
 * Each test builds a shape through the C API and checks rtbench's values
 * against CPython's.  The values are written in the test, and the test also
 * runs the same shape in Python under /usr/bin/python3 (Debian's 3.11) and
 * checks that CPython still says so, so that a value written here cannot
 * drift from CPython's.  Without a CPython 3.11 there, the written values
 * alone are checked (and the test says so on stdout).
 *
 * The Python side uses __slots__ classes, so that each Python object is one
 * collector object as in the C shape (no instance dicts), and builds what
 * it needs before the collection it measures, so that the interpreter's own
 * allocations stay out of the counts.
 */
#include "testhelper.h"
#include "../runtime/src/internal.h"

/* ==== CPython ============================================================ */

#define CPYTHON "/usr/bin/python3"
#define MAX_VALUES 16

/* Run script under CPython 3.11 and read the integers it prints.  Returns
 * how many it read, or -1 when no CPython 3.11 is there. */
static int
cpython_values(const char *script, long *out, int max)
{
    if (access(CPYTHON, X_OK) != 0)
        return -1;
    char path[] = "/tmp/rt-test-gc-cpython-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    fprintf(f, "import sys\nif sys.version_info[:2] != (3, 11):\n    print('skip')\n    sys.exit(0)\n%s", script);
    fclose(f);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "%s %s", CPYTHON, path);
    FILE *p = popen(cmd, "r");
    int n = 0;
    char word[64];
    bool skipped = false;
    while (p != NULL && fscanf(p, "%63s", word) == 1) {
        if (strcmp(word, "skip") == 0)
            skipped = true;
        else if (n < max)
            out[n++] = strtol(word, NULL, 10);
    }
    int status = p ? pclose(p) : -1;
    unlink(path);
    if (skipped)
        return -1;
    if (status != 0) {
        fprintf(stderr, "  %s failed (status %d) on:\n%s\n", CPYTHON, status, script);
        return 0;
    }
    return n;
}

static void
print_values(const char *who, const long *v, int n)
{
    fprintf(stderr, "  %-8s", who);
    for (int i = 0; i < n; i++)
        fprintf(stderr, " %ld", v[i]);
    fprintf(stderr, "\n");
}

/* Check rtbench's n values (got) against the values written in the test
 * (expect), and those against what CPython prints for script. */
static void
check_values(const char *script, const long *got, const long *expect, int n)
{
    if (memcmp(got, expect, (size_t)n * sizeof *got) != 0) {
        CHECK(!"rtbench's values are CPython's");
        print_values("rtbench", got, n);
        print_values("CPython", expect, n);
    }
    long cp[MAX_VALUES];
    int k = cpython_values(script, cp, MAX_VALUES);
    if (k < 0) {
        printf("     (no CPython 3.11 at %s: checked against the values written in the test)\n", CPYTHON);
        return;
    }
    if (k != n || memcmp(cp, expect, (size_t)n * sizeof *cp) != 0) {
        CHECK(!"the values written in the test are CPython's");
        print_values("written", expect, n);
        print_values(CPYTHON, cp, k);
    }
}

/* ==== setup ============================================================== */

static RtTestMark mark;

static void
setup(void)
{
    rt_test_start(700, 10, 10, true);
    mark = rt_test_mark();
}

static void teardown(void) { rt_test_collect_and_finish(mark); }

/* ==== 1. a weakref deep in a structure being freed ====================== */

static intptr_t finalizer_collect_result;
static int weakref_callbacks;

static void collect_when_finalized(RtObject *self) { finalizer_collect_result = rt_gc_collect(2); }
static void count_callback(RtObject *wr, RtObject *arg) { weakref_callbacks++; }

/* A weakref with a callback to a cycle, 49 lists deep in a list that also
 * holds the cycle and, first, an object whose finalizer collects.  Dropping
 * the outer list releases its items last to first: the chain (its 49
 * lists take the nesting to 50, the trashcan's limit, where the weakref
 * is freed), then the cycle (now garbage), then the finalizer's object,
 * whose collection finds the cycle.  CPython frees a weakref at once, so
 * the cycle has no weakref left: 1 collected, no callback. */
static const char weakref_script[] =
    "import gc, weakref\n"
    "class Cyc: __slots__ = ('s', '__weakref__')\n"
    "out = []\n"
    "class Fin:\n"
    "    __slots__ = ()\n"
    "    def __del__(self): out.append(gc.collect())\n"
    "calls = []\n"
    "a = Cyc(); a.s = a\n"
    "inner = [weakref.ref(a, calls.append)]\n"
    "for i in range(48): inner = [inner]\n"
    "outer = [Fin(), a, inner]\n"
    "del a, inner\n"
    "gc.collect()\n"
    "del outer\n"
    "print(out[0], len(calls))\n";

TEST(weakref_freed_inside_the_trashcan_leaves_its_referent_at_once)
{
    setup();
    RtType *cyc = rt_class_new("Cyc", 1, RT_CLASS_WEAKREF, NULL);
    RtType *fin = rt_class_new("Fin", 0, 0, collect_when_finalized);
    RtObject *a = rt_instance_new(cyc);
    rt_instance_set(a, 0, a);
    RtObject *wr = rt_weakref_new(a, count_callback, NULL);
    RtObject *inner = rt_test_nest(rt_newref(wr), 49);
    rt_decref(wr);
    RtObject *outer = rt_list_new(0), *f = rt_instance_new(fin);
    rt_list_append(outer, f);
    rt_list_append(outer, a);
    rt_list_append(outer, inner);
    rt_decref(f);
    rt_decref(a);
    rt_decref(inner);
    rt_gc_collect(2);
    finalizer_collect_result = -1;
    weakref_callbacks = 0;
    rt_decref(outer);
    check_values(weakref_script, (long[]){finalizer_collect_result, weakref_callbacks}, (long[]){1, 0}, 2);
    teardown();
}

/* ==== 2. collected: what is still unreachable after the finalizers ====== */

static RtObject *lazarus;       /* a reachable list the finalizers store into */

static void resurrect(RtObject *self) { rt_list_append(lazarus, self); }
static void drop_attr(RtObject *self) { rt_instance_set(self, 1, NULL); }

static uint64_t
collected_of(int generation)
{
    RtGcGenStats st[RT_GC_GENERATIONS];
    rt_gc_get_stats(st);
    return st[generation].collected;
}

static intptr_t last_stop_collected;

static void
record_stop(const char *phase, const RtGcInfo *info, void *arg)
{
    (void)arg;
    if (strcmp(phase, "stop") == 0)
        last_stop_collected = info->collected;
}

/* Store each link {object, slot, value} (indexes of objs), then drop the
 * creation references of the n objects. */
static void
link_then_drop(RtObject *const *objs, int n, const int (*links)[3], int nlinks)
{
    for (int i = 0; i < nlinks; i++)
        rt_instance_set(objs[links[i][0]], (uint32_t)links[i][1], objs[links[i][2]]);
    for (int i = 0; i < n; i++)
        rt_decref(objs[i]);
}

/* Collect everything and return (the return value, the collected count
 * that the generation-2 statistics gained, the stop callback's). */
static void
collect_and_count(long out[3])
{
    uint64_t before = collected_of(2);
    last_stop_collected = -1;
    out[0] = rt_gc_collect(2);
    out[1] = (long)(collected_of(2) - before);
    out[2] = last_stop_collected;
}

static const char collected_script[] =
    "import gc\n"
    "info = []\n"
    "gc.callbacks.append(lambda phase, i: info.append(i['collected']) if phase == 'stop' else None)\n"
    "def collected(): return gc.get_stats()[2]['collected']\n"
    "def measure():\n"
    "    s0 = collected()\n"
    "    r = gc.collect()\n"
    "    print(r, collected() - s0, info[-1])\n"
    "gc.collect()\n"
    /* CPython's test_bug21435, as it is written there */
    "class A:\n"
    "    pass\n"
    "class B:\n"
    "    def __init__(self, x):\n"
    "        self.x = x\n"
    "    def __del__(self):\n"
    "        self.attr = None\n"
    "def do_work():\n"
    "    a = A()\n"
    "    b = B(A())\n"
    "    a.attr = b\n"
    "    b.attr = a\n"
    "do_work()\n"
    "measure()\n"
    "laz = []\n"
    "class P:\n"
    "    __slots__ = ('s',)\n"
    "    def __del__(self): laz.append(self)\n"
    "p = P(); p.s = p; del p\n"
    "measure()\n"
    "class Q:\n"
    "    __slots__ = ('s',)\n"
    "class R:\n"
    "    __slots__ = ('s',)\n"
    "    def __del__(self): laz.append(self)\n"
    "a = Q(); b = R(); c = Q(); a.s = b; b.s = c; c.s = a; del a, b, c\n"
    "measure()\n";

TEST(collected_counts_what_finalizers_left_unreachable)
{
    setup();
    rt_gc_callback_add(record_stop, NULL);
    lazarus = rt_list_new(0);
    long got[9];
    /* test_bug21435: b's finalizer drops b -> a, which frees a, b and x by
     * reference counting while the finalizers run: nothing is left. */
    RtType *A = rt_class_new("A", 1, 0, NULL), *B = rt_class_new("B", 2, 0, drop_attr);
    RtObject *bug[3] = {rt_instance_new(A), rt_instance_new(A), rt_instance_new(B)};   /* a, x, b */
    link_then_drop(bug, 3, (const int[][3]){{2, 0, 1}, {0, 0, 2}, {2, 1, 0}}, 3);
    collect_and_count(&got[0]);
    /* One object in a cycle with itself, which its finalizer resurrects. */
    RtType *P = rt_class_new("P", 1, 0, resurrect);
    RtObject *p[1] = {rt_instance_new(P)};
    link_then_drop(p, 1, (const int[][3]){{0, 0, 0}}, 1);
    collect_and_count(&got[3]);
    /* A cycle of three whose one finalizer resurrects its object, and with
     * it the other two. */
    RtType *Q = rt_class_new("Q", 1, 0, NULL), *R = rt_class_new("R", 1, 0, resurrect);
    RtObject *ring[3] = {rt_instance_new(Q), rt_instance_new(R), rt_instance_new(Q)};
    link_then_drop(ring, 3, (const int[][3]){{0, 0, 1}, {1, 0, 2}, {2, 0, 0}}, 3);
    collect_and_count(&got[6]);
    long expect[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    check_values(collected_script, got, expect, 9);
    rt_list_clear(lazarus);     /* the resurrected are garbage again */
    rt_clearref(&lazarus);
    rt_gc_callback_remove(record_stop, NULL);
    teardown();
}

/* ==== 3. freeze zeroes every count ====================================== */

static const char freeze_script[] =
    "import gc\n"
    "class C: __slots__ = ()\n"
    "keep = [None] * 701\n"
    "base = gc.get_stats()\n"
    "gc.collect()\n"
    "gc.set_threshold(700, 0, 10)\n"
    "gc.collect(0)\n"
    "c_before = gc.get_count()\n"
    "gc.freeze()\n"
    "c_after = gc.get_count()\n"
    "for i in range(701): keep[i] = C()\n"
    "end = gc.get_stats()\n"
    "print(*c_before, *c_after, *[e['collections'] - b['collections'] for b, e in zip(base, end)])\n";

/* After freeze, count1 is 0: with threshold1 0, the next trigger collects
 * generation 0 (a count1 of 1 would make it collect generation 1). */
TEST(freeze_zeroes_every_count)
{
    setup();
    RtGcGenStats base[3], end[3];
    rt_gc_get_stats(base);
    rt_gc_collect(2);
    rt_gc_set_threshold(700, 0, 10);
    rt_gc_collect(0);
    long got[9];
    intptr_t count[3];
    rt_gc_get_count(count);
    for (int i = 0; i < 3; i++)
        got[i] = count[i];
    rt_gc_freeze();
    rt_gc_get_count(count);
    for (int i = 0; i < 3; i++)
        got[3 + i] = count[i];
    static RtObject *keep[701];
    for (int i = 0; i < 701; i++)
        keep[i] = rt_list_new(0);
    rt_gc_get_stats(end);
    for (int i = 0; i < 3; i++)
        got[6 + i] = (long)(end[i].collections - base[i].collections);
    long expect[9] = {0, 1, 0, 0, 0, 0, 2, 0, 1};
    check_values(freeze_script, got, expect, 9);
    for (int i = 0; i < 701; i++)
        rt_decref(keep[i]);
    rt_gc_unfreeze();
    teardown();
}

/* A full collection ends with count0 at 0, even when finalizers allocated
 * during it: CPython empties its free lists there, and each object freed
 * from them takes one off count0 (down to 0).  How far that goes depends
 * on what the free lists hold, which in a running program is plenty; the
 * script puts two tuples there first (a bare interpreter that just
 * collected holds none).  A younger collection leaves the count as the
 * finalizers made it. */
static const char full_count_script[] =
    "import gc, array\n"
    "A = array.array('q')\n"
    "class G:\n"
    "    __slots__ = ('s',)\n"
    "class Fin:\n"
    "    __slots__ = ('s',)\n"
    "    def __del__(self):\n"
    "        g = G(); g.s = g\n"
    "        g = G(); g.s = g\n"
    "def make():\n"
    "    f = Fin(); f.s = f\n"
    "def count():\n"
    "    c = gc.get_count()\n"
    "    A.append(c[0])\n"
    "stash = [(i, i, i) for i in range(10)]\n"
    "gc.freeze()\n"
    "gc.collect()\n"
    "stash.pop(); stash.pop()\n"
    "make()\n"
    "gc.collect(2)\n"
    "count()\n"
    "gc.collect(2)\n"
    "make()\n"
    "gc.collect(1)\n"
    "count()\n"
    "print(*A)\n";

static RtType *garbage_cls;

static void
make_two_garbage(RtObject *self)
{
    for (int i = 0; i < 2; i++) {
        RtObject *g = rt_instance_new(garbage_cls);
        rt_instance_set(g, 0, g);
        rt_decref(g);
    }
}

static long
count0_after_a_finalizer_allocated(int generation)
{
    RtType *fin = rt_class_new("Fin", 1, 0, make_two_garbage);
    RtObject *f = rt_instance_new(fin);
    rt_instance_set(f, 0, f);
    rt_decref(f);
    rt_gc_collect(generation);
    intptr_t count[3];
    rt_gc_get_count(count);
    return (long)count[0];
}

TEST(a_full_collection_ends_with_count0_at_zero)
{
    setup();
    garbage_cls = rt_class_new("G", 1, 0, NULL);
    rt_gc_freeze();
    rt_gc_collect(2);
    long got[2];
    got[0] = count0_after_a_finalizer_allocated(2);
    rt_gc_collect(2);
    got[1] = count0_after_a_finalizer_allocated(1);
    check_values(full_count_script, got, (long[]){0, 1}, 2);
    rt_gc_unfreeze();
    teardown();
}

/* ==== 4. children are visited last to first ============================= */

/* Only t3 is held from outside, so the collection finds t1 and t2 through
 * t3: visited last to first, t2 comes back before t1, and untracking the
 * survivors in that order meets t2 while t1 is still tracked. */
static const char tuple_order_script[] =
    "import gc\n"
    "def make():\n"
    "    x = 'x' * 3\n"
    "    t1 = (x,)\n"
    "    t2 = (t1, x)\n"
    "    return (t1, t2)\n"
    "gc.collect()\n"
    "t3 = make()\n"
    "gc.collect(0)\n"
    "print(int(gc.is_tracked(t3)), int(gc.is_tracked(t3[1])), int(gc.is_tracked(t3[0])))\n";

TEST(one_collection_untracks_nested_tuples_in_cpythons_order)
{
    setup();
    rt_gc_collect(2);
    RtObject *x = rt_str_from_cstr("xxx");
    RtObject *t1 = rt_tuple_pack(1, x), *t2 = rt_tuple_pack(2, t1, x), *t3 = rt_tuple_pack(2, t1, t2);
    rt_decref(t1);
    rt_decref(t2);
    rt_decref(x);
    rt_gc_collect(0);
    long got[3] = {rt_gc_is_tracked(t3), rt_gc_is_tracked(t2), rt_gc_is_tracked(t1)};
    long expect[3] = {1, 1, 0};
    check_values(tuple_order_script, got, expect, 3);
    rt_decref(t3);
    teardown();
}

/* Two objects found through a container come back in the order the
 * container visits them (a list's items last to first, a dict's value
 * before its key), and keep that order in the next generation: once they
 * are garbage, their finalizers run in that order. */
static int finalized_order[4], nfinalized;

static void
record_finalized(RtObject *self)
{
    if (nfinalized < 4)
        finalized_order[nfinalized++] = (int)rt_int_value(rt_instance_get(self, 1));
}

static const char finalizer_order_script[] =
    "import gc\n"
    "order = []\n"
    "class Fin:\n"
    "    __slots__ = ('s', 'n')\n"
    "    def __del__(self): order.append(self.n)\n"
    "def revive(as_dict):\n"
    "    gc.collect()\n"
    "    f1 = Fin(); f1.n = 1\n"
    "    f2 = Fin(); f2.n = 2\n"
    "    r = {f1: f2} if as_dict else [f1, f2]\n"
    "    del f1, f2\n"
    "    gc.collect(0)\n"
    "    for f in (list(r.items())[0] if as_dict else r): f.s = f\n"
    "    del f\n"
    "    r.clear()\n"
    "    gc.collect(1)\n"
    "revive(False)\n"
    "revive(True)\n"
    "print(*order)\n";

static void
revive(RtType *fin, bool as_dict)
{
    rt_gc_collect(2);
    RtObject *f1 = rt_instance_new(fin), *f2 = rt_instance_new(fin);
    rt_instance_set(f1, 1, rt_int_from(1));
    rt_instance_set(f2, 1, rt_int_from(2));
    RtObject *r = as_dict ? rt_dict_new() : rt_list_new(0);
    if (as_dict) {
        rt_dict_set(r, f1, f2);
    } else {
        rt_list_append(r, f1);
        rt_list_append(r, f2);
    }
    rt_decref(f1);
    rt_decref(f2);
    rt_gc_collect(0);
    rt_instance_set(f1, 0, f1);
    rt_instance_set(f2, 0, f2);
    as_dict ? rt_dict_clear(r) : rt_list_clear(r);
    rt_gc_collect(1);
    rt_decref(r);
}

TEST(finalizers_run_in_cpythons_order_after_a_container_revived_them)
{
    setup();
    RtType *fin = rt_class_new("Fin", 2, 0, record_finalized);
    nfinalized = 0;
    revive(fin, false);
    revive(fin, true);
    CHECK_EQ(nfinalized, 4);
    check_values(finalizer_order_script, (long[]){finalized_order[0], finalized_order[1], finalized_order[2],
                 finalized_order[3]}, (long[]){2, 1, 2, 1}, 4);
    teardown();
}

/* CPython's subtype_dealloc, in its order: the trashcan first, then the
 * finalizer (an object deposited deep in a structure is finalized when the
 * trashcan unwinds, after the shallower objects released after it); slots
 * first to last; and an object its finalizer resurrects from dealloc is
 * tracked again, in generation 0. */
static int dealloc_order[4], ndeallocs;
static RtObject *resurrected;

static void
record_number(RtObject *self)
{
    if (ndeallocs < 4)
        dealloc_order[ndeallocs++] = (int)rt_int_value(rt_instance_get(self, 0));
}

static void keep_self(RtObject *self) { resurrected = rt_newref(self); }

static const char dealloc_order_script[] =
    "import gc\n"
    "order = []\n"
    "class Fin:\n"
    "    __slots__ = ('n', 's')\n"
    "    def __del__(self): order.append(self.n)\n"
    "a = Fin(); a.n = 1; b = Fin(); b.n = 2\n"
    "inner = [b]\n"
    "for i in range(48): inner = [inner]\n"
    "outer = [a, inner]; del a, b, inner\n"
    "del outer\n"
    "class Two:\n"
    "    __slots__ = ('x', 'y')\n"
    "t = Two(); t.x = Fin(); t.x.n = 3; t.y = Fin(); t.y.n = 4\n"
    "del t\n"
    "laz = []\n"
    "class R:\n"
    "    __slots__ = ('s',)\n"
    "    def __del__(self): laz.append(self)\n"
    "r = R(); gc.collect(); del r\n"
    "x = laz.pop(); x.s = x; del x\n"
    "print(*order, gc.collect(0))\n";

static RtObject *
numbered(RtType *cls, int n)
{
    RtObject *op = rt_instance_new(cls);
    rt_instance_set(op, 0, rt_int_from(n));
    return op;
}

TEST(instances_die_in_cpythons_order)
{
    setup();
    RtType *fin = rt_class_new("Fin", 2, 0, record_number), *two = rt_class_new("Two", 2, 0, NULL);
    RtType *r_cls = rt_class_new("R", 1, 0, keep_self);
    ndeallocs = 0;
    RtObject *a = numbered(fin, 1), *b = numbered(fin, 2);
    RtObject *inner = rt_test_nest(rt_newref(b), 49), *outer = rt_list_new(0);
    rt_list_append(outer, a);
    rt_list_append(outer, inner);
    rt_decref(a);
    rt_decref(b);
    rt_decref(inner);
    rt_decref(outer);
    RtObject *t = rt_instance_new(two), *f3 = numbered(fin, 3), *f4 = numbered(fin, 4);
    rt_instance_set(t, 0, f3);
    rt_instance_set(t, 1, f4);
    rt_decref(f3);
    rt_decref(f4);
    rt_decref(t);
    RtObject *r = rt_instance_new(r_cls);
    rt_gc_collect(2);
    rt_decref(r);               /* resurrected: tracked again, in generation 0 */
    rt_instance_set(resurrected, 0, resurrected);
    rt_clearref(&resurrected);
    long got[5] = {dealloc_order[0], dealloc_order[1], dealloc_order[2], dealloc_order[3], rt_gc_collect(0)};
    CHECK_EQ(ndeallocs, 4);
    check_values(dealloc_order_script, got, (long[]){1, 2, 3, 4, 1}, 5);
    teardown();
}

/* A referent dying by reference count: its weakrefs' callbacks run, and
 * each weakref gives its callback up (here the argument, a Fin object,
 * which stands for Python's callback object): with one weakref, right
 * after its call; with several, after the last call, last first. */
static long wr_events[8];
static int nwr_events;

static void
log_event(long v)
{
    if (nwr_events < 8)
        wr_events[nwr_events++] = v;
}

static void log_finalized(RtObject *self) { log_event(rt_int_value(rt_instance_get(self, 0))); }
static void log_fired(RtObject *wr, RtObject *fin) { log_event(10 + rt_int_value(rt_instance_get(fin, 0))); }

static const char weakref_release_script[] =
    "import gc, weakref\n"
    "order = []\n"
    "class Fin:\n"
    "    __slots__ = ('n',)\n"
    "    def __del__(self): order.append(self.n)\n"
    "    def fire(self, wr): order.append(10 + self.n)\n"
    "class T: __slots__ = ('__weakref__',)\n"
    "def callback(n):\n"
    "    f = Fin(); f.n = n\n"
    "    return f.fire\n"
    "t = T(); w = weakref.ref(t, callback(1))\n"
    "del t; order.append(0); del w\n"
    "t = T(); w1 = weakref.ref(t, callback(1)); w2 = weakref.ref(t, callback(2))\n"
    "del t; order.append(0); del w1, w2\n"
    "print(*order)\n";

static RtObject *
weakref_firing(RtObject *t, RtType *fin, int n)
{
    RtObject *f = numbered(fin, n), *w = rt_weakref_new(t, log_fired, f);
    rt_decref(f);
    return w;
}

TEST(weakrefs_give_their_callback_up_in_cpythons_order)
{
    setup();
    RtType *t_cls = rt_class_new("T", 0, RT_CLASS_WEAKREF, NULL), *fin = rt_class_new("Fin", 1, 0, log_finalized);
    nwr_events = 0;
    RtObject *t = rt_instance_new(t_cls), *w = weakref_firing(t, fin, 1);
    rt_decref(t);
    log_event(0);
    rt_decref(w);
    t = rt_instance_new(t_cls);
    RtObject *w1 = weakref_firing(t, fin, 1), *w2 = weakref_firing(t, fin, 2);
    rt_decref(t);
    log_event(0);
    rt_decref(w1);
    rt_decref(w2);
    CHECK_EQ(nwr_events, 8);
    check_values(weakref_release_script, wr_events, (long[]){11, 1, 0, 12, 11, 1, 2, 0}, 8);
    teardown();
}

/* CPython's tuples have no clear: a garbage cycle's tuple waits while the
 * other objects are cleared, so what the cycle holds dies in the order the
 * list's clear drops it.  T = (L, o1), L = [T, o2], T first in the list of
 * garbage (a container revived them in that order), o1 and o2 finalizable
 * objects of an older generation: CPython finalizes o2, then o1. */
static int older_order[2], nolder;

static void
record_older(RtObject *self)
{
    if (nolder < 2)
        older_order[nolder++] = (int)rt_int_value(rt_instance_get(self, 0));
}

static const char tuple_clear_script[] =
    "import gc\n"
    "order = []\n"
    "class Fin:\n"
    "    __slots__ = ('n',)\n"
    "    def __del__(self): order.append(self.n)\n"
    "gc.collect()\n"
    "o1 = Fin(); o1.n = 1; o2 = Fin(); o2.n = 2\n"
    "gc.collect(1)\n"
    "L = []\n"
    "T = (L, o1)\n"
    "L.append(T); L.append(o2)\n"
    "C = [L, T]\n"
    "del L, T, o1, o2\n"
    "gc.collect(0)\n"
    "C.clear()\n"
    "gc.collect(1)\n"
    "print(*order)\n";

TEST(a_garbage_tuple_waits_for_the_rest_of_its_cycle)
{
    setup();
    rt_gc_collect(2);
    RtType *fin = rt_class_new("Fin", 1, 0, record_older);
    RtObject *o1 = numbered(fin, 1), *o2 = numbered(fin, 2);
    rt_gc_collect(1);           /* o1, o2: generation 2 */
    RtObject *l = rt_list_new(0), *t = rt_tuple_pack(2, l, o1);
    rt_list_append(l, t);
    rt_list_append(l, o2);
    RtObject *c = rt_list_new(0);
    rt_list_append(c, l);
    rt_list_append(c, t);
    RtObject *drop[] = {l, t, o1, o2};
    for (int i = 0; i < 4; i++)
        rt_decref(drop[i]);
    rt_gc_collect(0);           /* c revives t, then l: their order from now on */
    rt_list_clear(c);
    nolder = 0;
    rt_gc_collect(1);
    CHECK_EQ(nolder, 2);
    check_values(tuple_clear_script, (long[]){older_order[0], older_order[1]}, (long[]){2, 1}, 2);
    rt_decref(c);
    teardown();
}

int
main(void)
{
    RUN(weakref_freed_inside_the_trashcan_leaves_its_referent_at_once);
    RUN(collected_counts_what_finalizers_left_unreachable);
    RUN(freeze_zeroes_every_count);
    RUN(a_full_collection_ends_with_count0_at_zero);
    RUN(one_collection_untracks_nested_tuples_in_cpythons_order);
    RUN(finalizers_run_in_cpythons_order_after_a_container_revived_them);
    RUN(instances_die_in_cpythons_order);
    RUN(weakrefs_give_their_callback_up_in_cpythons_order);
    RUN(a_garbage_tuple_waits_for_the_rest_of_its_cycle);
    return rt_test_summary();
}
