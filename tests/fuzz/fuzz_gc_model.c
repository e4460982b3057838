/* fuzz_gc_model.c -- the model side of the fuzz_gc target.
 *
 * The model of every reference the program made (reach, maybe), the TNode
 * test type, the finalizer and weakref callback, and the checks made after
 * every operation; fuzz_gc.c's opening comment describes them.
 */
#include "fuzz_gc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

World fg_world;
int fg_tnode_freed[MAX_TNODES];
const char *const fg_kind_name[K_COUNT] = {"free", "TNode", "list", "dict", "tuple", "Slots", "Phoenix", "weakref"};

/* ==== failures ========================================================== */

static void
dump(void)
{
    for (int i = 0; i < MAX_OBJS; i++) {
        const Obj *o = &fg_world.obj[i];
        if (o->kind == K_FREE)
            continue;
        fprintf(stderr, "  %2d %-7s %s%s%s%s roots %d ->", i, fg_kind_name[o->kind], o->dead ? "dead " : "",
                fg_world.reach[i] ? "reach " : "", fg_world.maybe[i] ? "maybe " : "", o->tainted ? "tainted " : "",
                o->roots);
        for (int e = 0; e < o->nedges; e++)
            fprintf(stderr, " %d", o->edge[e]);
        fputc('\n', stderr);
    }
}

_Noreturn RT_PRINTF(1, 2) void
fg_fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz_gc (operation %u): ", fg_world.opno);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    dump();
    abort();
}

/* A call failed: only fault injection may make it fail, and only with
 * RT_ERR_NOMEM. */
void
fg_expect_nomem(const char *what)
{
    if (!fg_world.faulting || rt_error() != RT_ERR_NOMEM)
        fg_fail("%s failed (%s) %s", what, rt_error_message(),
                fg_world.faulting ? "not with NOMEM" : "with no fault armed");
    rt_error_clear();
}

/* ==== TNode: a test type that counts its deallocations ================== */

static void
tnode_dealloc(RtObject *op)
{
    TNode *n = (TNode *)op;
    rt_gc_untrack(op);
    if (++fg_tnode_freed[n->id] > 1)
        fg_fail("TNode %d freed twice", n->id);
    for (int i = 0; i < 3; i++)
        rt_clearref(&n->slot[i]);
    rt_object_free(op);
}

static int
tnode_traverse(RtObject *op, RtVisitProc visit, void *arg)
{
    for (int i = 0; i < 3; i++) {
        RtObject *v = ((TNode *)op)->slot[i];
        int r = v != NULL ? visit(v, arg) : 0;
        if (r)
            return r;
    }
    return 0;
}

static int
tnode_clear(RtObject *op)
{
    for (int i = 0; i < 3; i++)
        rt_clearref(&((TNode *)op)->slot[i]);
    return 0;
}

RtType fg_tnode_type = {
    .name = "TNode",
    .basic_size = sizeof(TNode),
    .flags = RT_TYPE_GC,
    .dealloc = tnode_dealloc,
    .traverse = tnode_traverse,
    .clear = tnode_clear,
};

/* ==== the model's graph ================================================= */

bool
fg_live(int i)
{
    return fg_world.obj[i].kind != K_FREE && !fg_world.obj[i].dead;
}

/* Entries reachable from the roots through live entries' edges. */
void
fg_compute_reach(bool *reach)
{
    int queue[MAX_OBJS], head = 0, tail = 0;
    for (int i = 0; i < MAX_OBJS; i++) {
        reach[i] = fg_live(i) && fg_world.obj[i].roots > 0;
        if (reach[i])
            queue[tail++] = i;
    }
    while (head < tail) {
        const Obj *o = &fg_world.obj[queue[head++]];
        for (int e = 0; e < o->nedges; e++) {
            int t = o->edge[e];
            if (t >= 0 && !reach[t]) {
                if (!fg_live(t))
                    fg_fail("a reachable entry refers to dead entry %d", t);
                reach[t] = true;
                queue[tail++] = t;
            }
        }
    }
}

/* Possibly alive: what reference counting cannot have freed.  Peel off
 * entries no root or live entry refers to, as decref would, until only
 * the roots' and the cycles' closure is left. */
void
fg_compute_maybe(void)
{
    int count[MAX_OBJS] = {0}, queue[MAX_OBJS], tail = 0;
    for (int i = 0; i < MAX_OBJS; i++) {
        fg_world.maybe[i] = fg_live(i);
        if (fg_world.maybe[i])
            count[i] += fg_world.obj[i].roots;
        for (int e = 0; fg_world.maybe[i] && e < fg_world.obj[i].nedges; e++)
            if (fg_world.obj[i].edge[e] >= 0)
                count[fg_world.obj[i].edge[e]]++;
    }
    for (int i = 0; i < MAX_OBJS; i++)
        if (fg_world.maybe[i] && count[i] == 0) {
            fg_world.maybe[i] = false;
            queue[tail++] = i;
        }
    for (int head = 0; head < tail; head++) {
        const Obj *o = &fg_world.obj[queue[head]];
        for (int e = 0; e < o->nedges; e++) {
            int t = o->edge[e];
            if (t >= 0 && fg_world.maybe[t] && --count[t] == 0) {
                fg_world.maybe[t] = false;
                queue[tail++] = t;
            }
        }
    }
}

/* Entry i is freed.  Guarantees a dead TNode was deallocated exactly once. */
static void
mark_dead(int i)
{
    Obj *o = &fg_world.obj[i];
    if (o->kind == K_TNODE && fg_tnode_freed[o->tnode] != 1)
        fg_fail("TNode entry %d is unreachable from any root or cycle, yet freed %d times", i,
                fg_tnode_freed[o->tnode]);
    o->dead = true;
    for (int j = 0; j < MAX_OBJS; j++)
        if (fg_live(j) && fg_world.obj[j].kind == K_WEAKREF && fg_world.obj[j].referent == i)
            fg_world.obj[j].referent_dead = true;
}

/* An entry to fill: a free one, or a dead one no live entry refers to. */
int
fg_free_entry(void)
{
    bool referenced[MAX_OBJS] = {false};
    for (int i = 0; i < MAX_OBJS; i++)
        for (int e = 0; fg_live(i) && e < fg_world.obj[i].nedges; e++)
            if (fg_world.obj[i].edge[e] >= 0)
                referenced[fg_world.obj[i].edge[e]] = true;
    for (int i = 1; i < MAX_OBJS; i++)
        if (fg_world.obj[i].kind == K_FREE || (fg_world.obj[i].dead && !referenced[i]))
            return i;
    return -1;
}

/* A new object got address op: whatever entry had it was freed.
 * Guarantees the memory of a reachable object is never handed out. */
void
fg_claim_address(RtObject *op)
{
    for (int i = 0; i < MAX_OBJS; i++) {
        if (!fg_live(i) || fg_world.obj[i].op != op)
            continue;
        if (fg_world.reach[i])
            fg_fail("a new object got the address of reachable entry %d", i);
        mark_dead(i);
    }
}

static int
find_entry(RtObject *op, int kind)
{
    for (int i = 0; i < MAX_OBJS; i++)
        if (fg_live(i) && fg_world.obj[i].kind == kind && fg_world.obj[i].op == op)
            return i;
    fg_fail("a %s callback got %p, which is no live entry", fg_kind_name[kind], (void *)op);
}

/* ==== finalizer and weakref callback ==================================== */

/* A garbage cycle of a type the model does not count: callbacks may
 * allocate (and so start a collection). */
static void
make_junk(void)
{
    RtObject *j = rt_instance_new(fg_world.junk_cls);
    if (j == NULL)
        return;     /* fault injection */
    rt_instance_set(j, 0, j);
    rt_decref(j);
}

/* Guarantees collections report start and stop in pairs, never nested. */
void
fg_gc_observer(const char *phase, const RtGcInfo *info, void *arg)
{
    bool start = strcmp(phase, "start") == 0;
    if (start == fg_world.collecting || info->generation < 0 || info->generation >= RT_GC_GENERATIONS
        || (start && (info->collected != 0 || info->uncollectable != 0)))
        fg_fail("gc callback: '%s' of generation %d out of order", phase, info->generation);
    fg_world.collecting = start;
}

/* Guarantees a finalizer runs once, and only on an unreachable object. */
void
fg_phoenix_finalize(RtObject *self)
{
    int i = find_entry(self, K_PHOENIX);
    Obj *o = &fg_world.obj[i];
    if (fg_world.reach_op[i])
        fg_fail("the finalizer of entry %d ran while it is reachable", i);
    if (o->finalized)
        fg_fail("the finalizer of entry %d ran twice", i);
    o->finalized = true;
    if (o->junk)
        make_junk();
    RtObject *laz = fg_world.obj[LAZ].op;
    if (o->resurrect && rt_list_size(laz) < MAX_EDGES && rt_list_append(laz, self) == 0)
        fg_world.log[fg_world.nlog++] = i;
}

/* Guarantees a callback runs once, with the weakref cleared, its own
 * argument, and an unreachable referent. */
void
fg_wr_callback(RtObject *wr, RtObject *arg)
{
    int i = find_entry(wr, K_WEAKREF);
    Obj *o = &fg_world.obj[i];
    if (++o->calls > 1)
        fg_fail("the callback of weakref entry %d ran twice", i);
    if (rt_weakref_get(wr) != NULL)
        fg_fail("the callback of weakref entry %d sees its referent", i);
    if (arg != (o->edge[0] >= 0 ? fg_world.obj[o->edge[0]].op : NULL))
        fg_fail("the callback of weakref entry %d got the wrong argument", i);
    if (!o->referent_dead && fg_world.reach_op[o->referent])
        fg_fail("the callback of weakref entry %d ran while its referent %d is reachable", i, o->referent);
    /* A referent dying by reference count (its dealloc is running: a count
     * of 0) makes the weakref give its argument up after the callback, as
     * CPython's weakref gives its callback up; a collection leaves it. */
    if (rt_refcnt(fg_world.obj[o->referent].op) == 0) {
        o->edge[0] = -1;
        fg_compute_reach(fg_world.reach_op);
    }
    if (o->junk)
        make_junk();
}

/* ==== checks ============================================================ */

/* Live objects of the types of that name (a released class and the one
 * made anew have one row each). */
static int64_t
live_of(const RtTypeStats *ts, size_t n, const char *name)
{
    int64_t live = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(ts[i].name, name) == 0)
            live += ts[i].live;
    return live;
}

/* Guarantees each modelled type's live count is between what is certainly
 * and what is possibly alive. */
static void
check_type_counts(void)
{
    RtTypeStats ts[RT_MAX_TYPES];
    size_t n = rt_type_stats(ts, RT_MAX_TYPES);
    for (int k = K_TNODE; k < K_COUNT; k++) {
        int64_t lo = 0, hi = 0, have = live_of(ts, n < RT_MAX_TYPES ? n : RT_MAX_TYPES, fg_kind_name[k]);
        for (int i = 0; i < MAX_OBJS; i++) {
            lo += fg_world.obj[i].kind == k && fg_world.reach[i];
            hi += fg_world.obj[i].kind == k && fg_world.maybe[i];
        }
        if (have < lo || have > hi)
            fg_fail("%lld %s objects alive, the model says %lld..%lld", (long long)have, fg_kind_name[k], (long long)lo,
                    (long long)hi);
    }
}

/* Guarantees each reachable object's count is its roots plus references
 * from objects certainly alive, plus at most those possibly alive. */
static void
check_refcounts(void)
{
    int lo[MAX_OBJS], hi[MAX_OBJS];
    for (int i = 0; i < MAX_OBJS; i++)
        lo[i] = hi[i] = fg_world.obj[i].roots;
    for (int i = 0; i < MAX_OBJS; i++)
        for (int e = 0; fg_world.maybe[i] && e < fg_world.obj[i].nedges; e++) {
            int t = fg_world.obj[i].edge[e];
            if (t >= 0) {
                lo[t] += fg_world.reach[i];
                hi[t]++;
            }
        }
    for (int i = 0; i < MAX_OBJS; i++) {
        if (!fg_world.reach[i])
            continue;
        const Obj *o = &fg_world.obj[i];
        intptr_t rc = rt_refcnt(o->op);
        if (rc < lo[i] || rc > hi[i])
            fg_fail("entry %d (%s) has %ld references, the model says %d..%d", i, fg_kind_name[o->kind], (long)rc,
                    lo[i], hi[i]);
        if (!rt_gc_is_tracked(o->op))
            fg_fail("reachable entry %d (%s) is not tracked", i, fg_kind_name[o->kind]);
        if (o->kind == K_PHOENIX && rt_gc_is_finalized(o->op) != o->finalized)
            fg_fail("entry %d: finalized flag %d, the model says %d", i, rt_gc_is_finalized(o->op), o->finalized);
    }
}

/* Guarantees a referent's weakref list holds every weakref that can never
 * have been cleared, and no more than those possibly alive. */
static void
check_weaklists(void)
{
    for (int x = 0; x < MAX_OBJS; x++) {
        if (!fg_world.reach[x] || (fg_world.obj[x].kind != K_SLOTS && fg_world.obj[x].kind != K_PHOENIX))
            continue;
        intptr_t lo = 0, hi = 0, have = rt_weakref_count(fg_world.obj[x].op);
        for (int j = 0; j < MAX_OBJS; j++) {
            const Obj *o = &fg_world.obj[j];
            if (!fg_live(j) || o->kind != K_WEAKREF || o->referent_dead || o->referent != x)
                continue;
            hi += fg_world.maybe[j];
            lo += fg_world.reach[j] && !o->tainted && !fg_world.obj[x].tainted;
        }
        if (have < lo || have > hi)
            fg_fail("entry %d has %ld weakrefs, the model says %ld..%ld", x, (long)have, (long)lo, (long)hi);
    }
}

/* Guarantees a weakref returns its referent or nothing; nothing once the
 * referent is dead; its referent while both were always reachable (the
 * collector clears weakrefs only of garbage); and that a weakref that was
 * always reachable got its callback when its referent died. */
void
fg_check_weakref(int i, RtObject *got)
{
    const Obj *o = &fg_world.obj[i];
    if (o->referent_dead) {
        if (got != NULL)
            fg_fail("weakref entry %d still returns its dead referent", i);
        if (o->has_callback && !o->tainted && o->calls != 1)
            fg_fail("weakref entry %d outlived its referent; its callback ran %d times", i, o->calls);
        return;
    }
    const Obj *x = &fg_world.obj[o->referent];
    if (got != NULL && got != x->op)
        fg_fail("weakref entry %d returns %p, not its referent %p", i, (void *)got, (void *)x->op);
    if (fg_world.reach[o->referent] && !o->tainted && !x->tainted && (got == NULL || o->calls != 0))
        fg_fail("weakref entry %d is cleared (%d calls) while its referent %d is reachable", i, o->calls, o->referent);
}

/* After an operation: apply its resurrections, learn what died, check. */
void
fg_settle(void)
{
    Obj *laz = &fg_world.obj[LAZ];
    for (int k = 0; k < fg_world.nlog; k++) {
        if (laz->nedges == MAX_EDGES)
            fg_fail("the lazarus list holds more than %d objects", MAX_EDGES);
        laz->edge[laz->nedges++] = fg_world.log[k];
    }
    fg_compute_reach(fg_world.reach);
    for (int i = 0; i < MAX_OBJS; i++) {
        if (fg_live(i) && fg_world.obj[i].kind == K_TNODE && fg_tnode_freed[fg_world.obj[i].tnode] != 0) {
            if (fg_world.reach[i])
                fg_fail("reachable TNode entry %d was freed", i);
            mark_dead(i);
        }
    }
    fg_compute_maybe();
    for (int i = 0; i < MAX_OBJS; i++)
        if (fg_live(i) && (!fg_world.maybe[i] || (fg_world.exact && !fg_world.reach[i])))
            mark_dead(i);
    fg_compute_maybe();
    for (int i = 0; i < MAX_OBJS; i++)
        if (fg_world.reach[i] && !fg_world.reach_op[i] && i != fg_world.fresh)
            fg_world.obj[i].tainted = true;
    check_type_counts();
    check_refcounts();
    check_weaklists();
    for (int i = 0; i < MAX_OBJS; i++)
        if (fg_world.reach[i] && fg_world.obj[i].kind == K_WEAKREF)
            fg_check_weakref(i, rt_weakref_get(fg_world.obj[i].op));
    if (rt_fault_countdown() != 0 || fg_world.collecting)
        fg_fail("fault injection still armed, or a collection did not stop");
}
