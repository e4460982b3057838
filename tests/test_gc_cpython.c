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

/* A list wrapping item depth times: [[[...[item]...]]]. */
static RtObject *
nest(RtObject *item, int depth)
{
    RtObject *inner = rt_newref(item);
    for (int i = 0; i < depth; i++) {
        RtObject *outer = rt_list_new(0);
        rt_list_append(outer, inner);
        rt_decref(inner);
        inner = outer;
    }
    return inner;
}

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
    RtObject *inner = nest(wr, 49);
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

int
main(void)
{
    RUN(weakref_freed_inside_the_trashcan_leaves_its_referent_at_once);
    return rt_test_summary();
}
