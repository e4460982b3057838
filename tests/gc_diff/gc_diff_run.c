/* gc_diff_run.c -- the C side of the differential test against CPython.
 *
 * Reads programs, one per line, from stdin (tests/gc_diff/gc_diff.py writes
 * them; it describes the operations and what a trace holds), runs each in
 * a fresh runtime through the public C API, and prints one trace per line:
 * integers, four per event.  cpython_run.py is the same interpreter in
 * Python, for CPython; gc_diff.py compares the two traces.
 *
 * Each program starts as the Python side does: the classes, the lazarus
 * list and the gc callback made, freeze, one full collection (of nothing:
 * the long-lived total is 0), the statistics read, freeze again, so that
 * both sides start with every count at 0 and every generation empty.
 */
#include "testhelper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The operations, the object kinds and the trace's event tags: the same
 * numbers as gc_diff.py's. */
enum { OP_NEW, OP_SET, OP_DEL, OP_DROP, OP_COPY, OP_COLLECT, OP_THRESH, OP_FREEZE, OP_ENABLE, OP_DEREF,
       OP_LAZCLEAR, OP_CHAIN, OP_TUPLES, OP_FINS, OP_DEEP };
enum { K_INST, K_FIN, K_LIST, K_DICT, K_TUPLE, K_WEAKREF };
enum { T_COUNT = 1, T_RETURN, T_START, T_STOP, T_FIN, T_CALLBACK, T_DEREF, T_INNER, T_STATS };
/* What a finalizer (a Fin's mode) or a weakref callback (a CB's) does. */
enum { M_RESURRECT = 1, M_COLLECT = 2, M_GARBAGE = 4 };

#define NENTRIES 16
#define MAX_ARGS 8

static RtObject *E[NENTRIES];   /* the program's references */
static RtObject *lazarus;       /* where finalizers resurrect their objects */
static RtType *inst_cls, *fin_cls, *cb_cls;
static long serial;             /* Fin and CB objects made so far */
static bool recording;

static long *trace;
static size_t ntrace, captrace;

static void
record(long tag, long a, long b, long c)
{
    if (!recording)
        return;
    if (ntrace + 4 > captrace) {
        captrace = captrace ? captrace * 2 : 4096;
        trace = realloc(trace, captrace * sizeof *trace);
        if (trace == NULL)
            abort();
    }
    long ev[4] = {tag, a, b, c};
    memcpy(trace + ntrace, ev, sizeof ev);
    ntrace += 4;
}

/* ==== what finalizers and callbacks do ================================== */

static void
make_garbage(void)
{
    RtObject *g = rt_instance_new(inst_cls);
    rt_instance_set(g, 0, g);
    rt_decref(g);
}

/* A Fin's or a CB's sid: its serial times 8 plus its mode. */
static void
act(long tag, RtObject *self, RtObject *sid_obj)
{
    long sid = sid_obj ? (long)rt_int_value(sid_obj) : -8;
    record(tag, sid >> 3, 0, 0);
    if ((sid & M_RESURRECT) && self != NULL)
        rt_list_append(lazarus, self);
    if (sid & M_COLLECT)
        record(T_INNER, (long)rt_gc_collect(2), 0, 0);
    if (sid & M_GARBAGE)
        make_garbage();
}

/* CPython's bound method, the Python side's weakref callback (cb.fire):
 * it holds its CB, has no clear, and frees itself without the trashcan. */
typedef struct Meth {
    RtObject ob_base;
    RtObject *self;
} Meth;

static void
meth_dealloc(RtObject *op)
{
    rt_gc_untrack(op);
    rt_clearref(&((Meth *)op)->self);
    rt_object_free(op);
}

static int
meth_traverse(RtObject *op, RtVisitProc visit, void *arg)
{
    return visit(((Meth *)op)->self, arg);
}

static RtType meth_type = {
    .name = "method",
    .basic_size = sizeof(Meth),
    .flags = RT_TYPE_GC,
    .dealloc = meth_dealloc,
    .traverse = meth_traverse,
};

static RtObject *
meth_new(RtObject *self)
{
    Meth *m = (Meth *)rt_object_new(&meth_type);
    m->self = rt_newref(self);
    rt_gc_track((RtObject *)m);
    return (RtObject *)m;
}

static void fin_finalize(RtObject *self) { act(T_FIN, self, rt_instance_get(self, 3)); }

static void
weakref_callback(RtObject *wr, RtObject *meth)
{
    act(T_CALLBACK, NULL, rt_instance_get(((Meth *)meth)->self, 1));
}

static void
gc_observer(const char *phase, const RtGcInfo *info, void *arg)
{
    (void)arg;
    if (strcmp(phase, "start") == 0)
        record(T_START, info->generation, 0, 0);
    else
        record(T_STOP, info->generation, (long)info->collected, (long)info->uncollectable);
}

/* ==== the operations ===================================================== */

static int
kind_of(const RtObject *op)
{
    const RtType *t = op ? RT_TYPE(op) : NULL;
    return t == NULL ? -1 : t == inst_cls ? K_INST : t == fin_cls ? K_FIN : t == &rt_list_type ? K_LIST
         : t == &rt_dict_type ? K_DICT : t == &rt_tuple_type ? K_TUPLE : t == &rt_weakref_type ? K_WEAKREF : -1;
}

/* Entry i's object, or None's stand-in (an immortal int: no collector
 * object) when the entry is empty or out of range. */
static RtObject *
item(long i)
{
    return i >= 0 && i < NENTRIES && E[i] != NULL ? E[i] : rt_int_from(0);
}

static RtObject *
numbered(RtType *cls, uint32_t sid_slot, long mode)
{
    RtObject *op = rt_instance_new(cls);
    rt_instance_set(op, sid_slot, rt_int_from(serial++ * 8 + mode));
    return op;
}

/* A weakref whose callback is a Meth of a CB (holding arg, may be NULL). */
static RtObject *
new_weakref(RtObject *referent, RtObject *arg, long mode)
{
    RtObject *cb = numbered(cb_cls, 1, mode);
    if (arg != NULL)
        rt_instance_set(cb, 0, arg);
    RtObject *meth = meth_new(cb);
    rt_decref(cb);
    /* As cpython_run.py: no collection in the weakref's allocation
     * (CPython's argument tuple would be alive and tracked then). */
    bool enabled = rt_gc_isenabled();
    rt_gc_disable();
    RtObject *wr = rt_weakref_new(referent, weakref_callback, meth);
    if (enabled)
        rt_gc_enable();
    rt_decref(meth);
    return wr;
}

static RtObject *
new_object(const long *a)
{
    switch (a[1]) {
    case K_INST: return rt_instance_new(inst_cls);
    case K_FIN: return numbered(fin_cls, 3, a[3]);
    case K_LIST: return rt_list_new(0);
    case K_DICT: return rt_dict_new();
    case K_TUPLE: {
        long len = a[3] < 0 ? 0 : a[3] > 4 ? 4 : a[3];
        RtObject *t = rt_tuple_new(len);
        for (long i = 0; i < len; i++)
            rt_tuple_init_item(t, i, item(a[4 + i]));
        return t;
    }
    default: {  /* K_WEAKREF: referent a[3], the callback's argument a[4], its mode a[5] */
        int k = a[3] < NENTRIES ? kind_of(E[a[3]]) : -1;
        if (k != K_INST && k != K_FIN)
            return NULL;
        return new_weakref(E[a[3]], a[4] < NENTRIES ? E[a[4]] : NULL, a[5]);
    }
    }
}

static void
set_item(RtObject *op, long slot, long src)
{
    switch (kind_of(op)) {
    case K_INST:
    case K_FIN: rt_instance_set(op, (uint32_t)(slot % 3), src < NENTRIES ? E[src] : NULL); break;
    case K_LIST: rt_list_append(op, item(src)); break;
    case K_DICT: rt_dict_set(op, rt_int_from(slot % 4), item(src)); break;
    default: break;
    }
}

static void
del_item(RtObject *op, long slot)
{
    switch (kind_of(op)) {
    case K_INST:
    case K_FIN: rt_instance_set(op, (uint32_t)(slot % 3), NULL); break;
    case K_LIST:
        if (rt_list_size(op) > 0)
            rt_decref(rt_list_pop(op, slot % rt_list_size(op)));
        break;
    case K_DICT:
        if (rt_dict_contains(op, rt_int_from(slot % 4)) == 1)
            rt_dict_del(op, rt_int_from(slot % 4));
        break;
    default: break;
    }
}

/* [Fin, r, [[...[weakref to r]...]]]: r in a cycle with itself, the weakref
 * depth lists deep, its callback's argument a Fin when arg_fin.  Released,
 * it frees the chain first, then leaves r to the collector, then finalizes
 * the Fin (which may collect): the shape in which a weakref the trashcan
 * held back met a collection. */
static RtObject *
deep(long depth, long fin_mode, long cb_mode, long arg_fin)
{
    RtObject *outer = rt_list_new(0), *f = numbered(fin_cls, 3, fin_mode);
    rt_list_append(outer, f);
    rt_decref(f);
    RtObject *r = rt_instance_new(inst_cls);
    rt_instance_set(r, 0, r);
    rt_list_append(outer, r);
    RtObject *arg = arg_fin ? numbered(fin_cls, 3, 0) : NULL, *wr = new_weakref(r, arg, cb_mode);
    rt_xdecref(arg);        /* the CB holds it now (cpython_run.py drops it there too) */
    RtObject *c = rt_test_nest(wr, depth);
    rt_decref(r);
    rt_list_append(outer, c);
    rt_decref(c);
    return outer;
}

/* n tuples, each holding the two made before it (the first two: src, and a
 * tuple of src): a DAG whose objects only the last one reaches. */
static RtObject *
tuples(long n, long src)
{
    RtObject *a = rt_newref(item(src)), *b = rt_tuple_pack(1, item(src));
    for (long i = 0; i < n; i++) {
        RtObject *c = rt_tuple_pack(2, b, a);
        rt_decref(a);
        a = b;
        b = c;
    }
    rt_decref(a);
    return b;
}

/* A list of n Fin objects (modes from the bits of mode, three per object),
 * each in a cycle with itself: once the list goes, garbage for the
 * collector to finalize. */
static RtObject *
fins(long n, long mode)
{
    RtObject *list = rt_list_new(0);
    for (long i = 0; i < n; i++) {
        RtObject *f = numbered(fin_cls, 3, (mode >> (3 * i)) & 7);
        rt_instance_set(f, 0, f);
        rt_list_append(list, f);
        rt_decref(f);
    }
    return list;
}

static void
run_op(const long *a)
{
    long d = a[1] % NENTRIES;
    switch (a[0]) {
    case OP_NEW: {
        RtObject *op = new_object(a);
        if (op != NULL)
            rt_setref(&E[a[2] % NENTRIES], op);
        break;
    }
    case OP_SET: set_item(E[d], a[2], a[3]); break;
    case OP_DEL: del_item(E[d], a[2]); break;
    case OP_DROP: rt_clearref(&E[d]); break;
    case OP_COPY:
        rt_xincref(a[1] < NENTRIES ? E[a[1]] : NULL);
        rt_setref(&E[a[2] % NENTRIES], a[1] < NENTRIES ? E[a[1]] : NULL);
        break;
    case OP_COLLECT: record(T_RETURN, a[1], (long)rt_gc_collect((int)a[1]), 0); break;
    case OP_THRESH: rt_gc_set_threshold(a[1], a[2], a[3]); break;
    case OP_FREEZE: rt_gc_freeze(); break;
    case OP_ENABLE: a[1] ? rt_gc_enable() : rt_gc_disable(); break;
    case OP_DEREF:
        if (kind_of(E[d]) == K_WEAKREF)
            record(T_DEREF, rt_weakref_get(E[d]) != NULL, 0, 0);
        break;
    case OP_LAZCLEAR: rt_list_clear(lazarus); break;
    case OP_CHAIN:
        rt_setref(&E[d], rt_test_nest(a[3] < NENTRIES && E[a[3]] != NULL ? rt_newref(E[a[3]]) : rt_list_new(0), a[2]));
        break;
    case OP_DEEP: rt_setref(&E[d], deep(a[2], a[3], a[4], a[5])); break;
    case OP_TUPLES: rt_setref(&E[d], tuples(a[2], a[3])); break;
    case OP_FINS: rt_setref(&E[d], fins(a[2], a[3])); break;
    default: break;
    }
}

/* ==== a program ========================================================== */

static void
start(RtGcGenStats base[RT_GC_GENERATIONS])
{
    RtConfig cfg;
    rt_config_default(&cfg);
    if (rt_init_ex(&cfg) != 0)
        abort();
    inst_cls = rt_class_new("Inst", 3, RT_CLASS_WEAKREF, NULL);
    fin_cls = rt_class_new("Fin", 4, RT_CLASS_WEAKREF, fin_finalize);
    cb_cls = rt_class_new("CB", 2, 0, NULL);
    lazarus = rt_list_new(0);
    rt_gc_callback_add(gc_observer, NULL);
    rt_gc_freeze();
    rt_gc_collect(2);       /* an empty heap: the long-lived total is 0 */
    rt_gc_get_stats(base);
    rt_gc_freeze();
    serial = 0;
    ntrace = 0;
    recording = true;
}

static void
finish(const RtGcGenStats base[RT_GC_GENERATIONS])
{
    RtGcGenStats st[RT_GC_GENERATIONS];
    rt_gc_get_stats(st);
    for (int g = 0; g < RT_GC_GENERATIONS; g++)
        record(T_STATS, g, (long)(st[g].collections - base[g].collections),
               (long)(st[g].collected - base[g].collected));
    recording = false;
    rt_gc_unfreeze();
    for (int i = 0; i < NENTRIES; i++)
        rt_clearref(&E[i]);
    rt_list_clear(lazarus);
    rt_gc_collect(2);       /* finalizers run once: nothing resurrects again */
    rt_list_clear(lazarus);
    rt_clearref(&lazarus);
    rt_gc_collect(2);
    rt_fini();
}

/* Parse "op a b ...,op a b ...,..." into ops of up to MAX_ARGS numbers. */
static void
run_program(char *line)
{
    RtGcGenStats base[RT_GC_GENERATIONS];
    start(base);
    for (char *save = NULL, *op = strtok_r(line, ",\n", &save); op != NULL; op = strtok_r(NULL, ",\n", &save)) {
        long a[MAX_ARGS] = {0};
        int n = 0;
        for (char *end; n < MAX_ARGS; n++) {
            a[n] = strtol(op, &end, 10);
            if (end == op)
                break;
            op = end;
        }
        if (n == 0)
            continue;
        run_op(a);
        intptr_t c[RT_GC_GENERATIONS];
        rt_gc_get_count(c);
        record(T_COUNT, (long)c[0], (long)c[1], (long)c[2]);
    }
    finish(base);
    for (size_t i = 0; i < ntrace; i++)
        printf(i ? " %ld" : "%ld", trace[i]);
    printf("\n");
    fflush(stdout);
}

int
main(void)
{
    static char line[1 << 20];
    while (fgets(line, sizeof line, stdin) != NULL)
        run_program(line);
    free(trace);
    return 0;
}
