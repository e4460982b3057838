/* gc_passes.c -- the passes of a collection, each a separate function so
 * that a strategy (gc.c's generational one today; an incremental one later)
 * can compose them.  The algorithm is CPython's gcmodule.c:
 *
 *   1. update_refs       gc_refs = refcount, for every object being collected
 *   2. subtract_refs     for every reference from one such object to
 *                        another, gc_refs -= 1: what is left counts the
 *                        references from outside the set
 *   3. move_unreachable  objects with gc_refs > 0 are reachable, and so is
 *                        everything they reach; the rest moves to the
 *                        tentatively unreachable list
 *   4. handle_weakrefs   clear weakrefs to unreachable objects; call the
 *                        callbacks of weakrefs that are themselves reachable
 *   5. finalize_garbage  run each finalizer once (may resurrect)
 *   6. handle_resurrected  redo 1-3 on the unreachable set: what a finalizer
 *                        made reachable again survives, with all it reaches
 *   7. delete_garbage    call clear on what is left, which breaks the cycles;
 *                        reference counting frees the objects
 *
 * Worked example: a <-> b, c -> a, and a C local holds c.  Refcounts are
 * a=2 (from b and c), b=1, c=1.  subtract_refs takes the references inside
 * the set away: a=0, b=0, c=1 (only the local's).  move_unreachable finds c
 * reachable; traversing c revives a, traversing a revives b: no garbage.
 * Once the local drops c, reference counting frees c, a falls to 1, and the
 * next collection finds a and b unreachable.
 *
 * No pass allocates: lists are threaded through the GC headers.
 *
 * Speed: on a large heap the passes that follow references (subtract_refs
 * and move_unreachable) wait on memory: every reference leads to a random
 * object.  Two things keep them fast.  The built-in containers' references
 * are read inline (for_each_child) rather than through traverse and a
 * visit function per reference.  And a lookahead pointer walks the list
 * PREFETCH_DISTANCE objects ahead of the pass, prefetching the headers of
 * that object's children, so that their cache misses overlap instead of
 * coming one after another; a second lookahead twice as far ahead
 * prefetches lists' item arrays, which the first one then reads.
 */
#include "internal.h"

/* Immortal objects keep their count out of the arithmetic: they are always
 * reachable. */
#define IMMORTAL_REFS ((intptr_t)1 << 40)

/* How far ahead of a pass its lookahead prefetches, in objects. */
#define PREFETCH_DISTANCE 16

static inline bool
is_gc(const RtObject *op)
{
    return (RT_TYPE(op)->flags & RT_TYPE_GC) != 0;
}

/* Call visit on each object op refers to, in the order of the type's
 * traverse slot, which is CPython's: a list's or a tuple's items last to
 * first (list_traverse, tupletraverse), an instance's slots first to last
 * (traverse_slots).  The order decides where move_unreachable puts the
 * objects it finds again, and so the order of the lists from then on:
 * which tuples one pass untracks, the survivors' count, the finalizers'
 * order.  Lists, tuples and instances are read inline; every call site
 * passes a constant visit function, which the compiler inlines.  Other
 * types go through their traverse slot. */
static inline void
for_each_child(RtObject *op, RtVisitProc visit, void *arg)
{
    const RtType *t = RT_TYPE(op);
    if (t == &rt_list_type || t == &rt_tuple_type) {
        RtObject **items = t == &rt_list_type ? ((RtListObject *)op)->items : ((RtTupleObject *)op)->items;
        for (size_t i = (size_t)RT_SIZE(op); i-- > 0;)
            if (items[i] != NULL)
                visit(items[i], arg);
    } else if (t->flags & RT_TYPE_HEAP) {
        size_t n;
        RtObject **slots = rti_instance_slots(op, &n);
        for (size_t i = 0; i < n; i++)
            if (slots[i] != NULL)
                visit(slots[i], arg);
    } else {
        t->traverse(op, visit, arg);
    }
}

/* Bring a child's GC header and type word toward the cache, for writing. */
static int
visit_prefetch(RtObject *op, void *arg)
{
    (void)arg;
    __builtin_prefetch(RTI_AS_GC(op), 1, 3);
    __builtin_prefetch(&op->ob_type, 1, 3);
    return 0;
}

/* Two pointers running ahead of a pass: 'near' PREFETCH_DISTANCE objects
 * ahead (its children's headers are prefetched), 'far' twice that (a list's
 * item array is prefetched, for 'near' to read). */
typedef struct Lookahead {
    RtGcHead *list, *near, *far;
} Lookahead;

static inline RtGcHead *
skip(RtGcHead *list, RtGcHead *g, int n)
{
    for (int k = 0; k < n && g != list; k++)
        g = (RtGcHead *)(g->gc_next & ~RTI_GC_NEXT_UNREACHABLE);
    return g;
}

static inline Lookahead
lookahead_start(RtGcHead *list, RtGcHead *first)
{
    RtGcHead *near = skip(list, first, PREFETCH_DISTANCE);
    return (Lookahead){list, near, skip(list, near, PREFETCH_DISTANCE)};
}

static inline void
lookahead_step(Lookahead *la)
{
    if (la->far != la->list) {
        RtObject *op = RTI_FROM_GC(la->far);
        if (RT_TYPE(op) == &rt_list_type && ((RtListObject *)op)->items != NULL)
            __builtin_prefetch(((RtListObject *)op)->items, 0, 3);
        la->far = skip(la->list, la->far, 1);
    }
    if (la->near != la->list) {
        for_each_child(RTI_FROM_GC(la->near), visit_prefetch, NULL);
        la->near = skip(la->list, la->near, 1);
    }
}

/* ==== invariants ========================================================= */

#if RT_DEBUG >= 2
void
rti_gc_validate_list(const RtGcHead *list, bool collecting, bool unreachable)
{
    uintptr_t flag = unreachable ? RTI_GC_NEXT_UNREACHABLE : 0;
    const RtGcHead *prev = list;
    for (const RtGcHead *g = rti_gc_next(list); g != list; prev = g, g = (RtGcHead *)(g->gc_next & ~flag)) {
        rti_assert_msg(g->gc_next != 0, "an untracked object on a collector list");
        rti_assert_msg((g->gc_next & RTI_GC_NEXT_UNREACHABLE) == flag, "the UNREACHABLE bit is not as this list expects");
        rti_assert_msg(rti_gc_prev(g) == prev, "a collector list's links do not match: an object freed while tracked?");
        rti_assert_msg(rti_gc_is_collecting(g) == collecting, "the COLLECTING flag is not as this list expects");
        rti_assert_msg(is_gc(RTI_FROM_GC(g)), "an object of a type without RT_TYPE_GC on a collector list");
    }
    rti_assert_msg(rti_gc_prev(list) == prev, "a collector list's head does not point back at its last object");
}

/* subtract_refs' postcondition: 0 <= gc_refs <= the count, everywhere. */
static void
assert_refs_subtracted(const RtGcHead *containers)
{
    for (const RtGcHead *g = rti_gc_next(containers); g != containers; g = rti_gc_next(g)) {
        intptr_t rc = rt_refcnt(RTI_FROM_GC(g));
        rti_assert_msg(rti_gc_is_collecting(g) && rti_gc_refs(g) <= (rc < 0 ? IMMORTAL_REFS : rc),
                       "refcount is too small: an object has fewer references than the objects "
                       "being collected hold to it (a traverse visits a reference its object does "
                       "not own, or a reference was stored without its incref)");
    }
}
#else
#define assert_refs_subtracted(containers) ((void)0)
#endif

/* ==== 1-3: deduce the unreachable set ==================================== */

/* Postcondition: every object of containers has COLLECTING set and gc_refs
 * equal to its reference count; gc_prev links are gone (singly linked). */
void
rti_gc_update_refs(RtGcHead *containers)
{
    RTI_GC_VALIDATE(containers, false, false);
    for (RtGcHead *g = rti_gc_next(containers); g != containers; g = rti_gc_next(g)) {
        intptr_t rc = rt_refcnt(RTI_FROM_GC(g));
        /* CPython's update_refs: the collector never sees a count of 0,
         * since whatever reaches 0 is deallocated at once. */
        rti_assert_msg(rc != 0, "a tracked object with a count of 0: a dealloc left its object tracked "
                       "during its teardown and let something (a finalizer, a callback, an allocation) "
                       "start a collection, which would free the object a second time");
        rti_gc_reset_refs(g, rc < 0 ? IMMORTAL_REFS : rc);
    }
}

static int
visit_decref(RtObject *op, void *parent)
{
    (void)parent;
    if (is_gc(op)) {
        RtGcHead *g = RTI_AS_GC(op);
        if (rti_gc_is_collecting(g)) {
            rti_assert_msg(rti_gc_refs(g) > 0, "refcount is too small: more references from the objects "
                           "being collected than the count says");
            rti_gc_decref(g);
        }
    }
    return 0;
}

/* Postcondition: gc_refs >= 0 counts references from outside the set. */
void
rti_gc_subtract_refs(RtGcHead *containers)
{
    Lookahead la = lookahead_start(containers, rti_gc_next(containers));
    for (RtGcHead *g = rti_gc_next(containers); g != containers; g = rti_gc_next(g)) {
        lookahead_step(&la);
        for_each_child(RTI_FROM_GC(g), visit_decref, NULL);
    }
    assert_refs_subtracted(containers);
}

static int
visit_reachable(RtObject *op, void *arg)
{
    RtGcHead *reachable = arg;
    if (!is_gc(op))
        return 0;
    RtGcHead *g = RTI_AS_GC(op);
    /* Objects of other generations, and objects move_unreachable already
     * scanned (their flag is cleared), are none of our business. */
    if (!rti_gc_is_collecting(g))
        return 0;
    if (g->gc_next & RTI_GC_NEXT_UNREACHABLE) {
        /* It had gc_refs == 0 when the scan passed it, but it is reachable
         * after all: move it back to the end of 'young', where the scan will
         * reach it again.  The unreachable list's next words carry the flag,
         * so it is unlinked by hand. */
        RtGcHead *prev = rti_gc_prev(g);
        RtGcHead *next = (RtGcHead *)(g->gc_next & ~RTI_GC_NEXT_UNREACHABLE);
        prev->gc_next = g->gc_next;     /* keeps the flag */
        rti_gc_set_prev(next, prev);
        rti_gc_list_append(g, reachable);
        rti_gc_set_refs(g, 1);
    } else if (rti_gc_refs(g) == 0) {
        /* Still ahead of the scan: just tell the scan it is reachable. */
        rti_gc_set_refs(g, 1);
    }
    /* Else gc_refs > 0: ahead of the scan and known reachable. */
    return 0;
}

/* Invariants of the scan: objects left of 'g' in young are reachable, have
 * COLLECTING cleared and proper prev links; objects in unreachable have
 * gc_refs == 0 (lost: prev is a link there) and the UNREACHABLE bit in
 * their next word.  Postcondition: young holds the reachable objects as a
 * normal list; unreachable holds the rest, flagged, COLLECTING still set.
 * Each object that stays in young is scanned exactly once as reachable,
 * which is where the scan counts survivors and tuples (RtGcScan). */
RtGcScan
rti_gc_move_unreachable(RtGcHead *young, RtGcHead *unreachable)
{
    RtGcScan scan = {0, 0};
    RtGcHead *prev = young, *g = rti_gc_next(young);
    /* Objects ahead of the scan keep their links until the scan reaches
     * them, so the lookahead can follow gc_next. */
    Lookahead la = lookahead_start(young, g);
    while (g != young) {
        lookahead_step(&la);
        if (rti_gc_refs(g) != 0) {
            RtObject *op = RTI_FROM_GC(g);
            scan.survivors++;
            scan.tuples += rt_is_type(op, &rt_tuple_type);
            for_each_child(op, visit_reachable, young);
            rti_gc_set_prev(g, prev);   /* relink; gc_refs are done with */
            rti_gc_clear_collecting(g);
            prev = g;
        } else {
            /* Move g to unreachable.  'young' is singly linked during the
             * scan, so only prev's next changes. */
            prev->gc_next = g->gc_next;
            RtGcHead *last = rti_gc_prev(unreachable);
            /* Every node of unreachable gets the flag, the list head's next
             * word too; that is repaired at the end. */
            last->gc_next = RTI_GC_NEXT_UNREACHABLE | (uintptr_t)g;
            rti_gc_set_prev(g, last);
            g->gc_next = RTI_GC_NEXT_UNREACHABLE | (uintptr_t)unreachable;
            unreachable->gc_prev = (uintptr_t)g;
        }
        g = (RtGcHead *)prev->gc_next;
    }
    young->gc_prev = (uintptr_t)prev;
    unreachable->gc_next &= ~RTI_GC_NEXT_UNREACHABLE;
    RTI_GC_VALIDATE(young, false, false);
    RTI_GC_VALIDATE(unreachable, true, true);
    return scan;
}

RtGcScan
rti_gc_deduce_unreachable(RtGcHead *base, RtGcHead *unreachable)
{
    rti_gc_update_refs(base);
    rti_gc_subtract_refs(base);
    rti_gc_list_init(unreachable);
    return rti_gc_move_unreachable(base, unreachable);
}

/* Drop the UNREACHABLE bits, making unreachable a normal list; returns its
 * length. */
intptr_t
rti_gc_clear_unreachable_mask(RtGcHead *unreachable)
{
    intptr_t n = 0;
    for (RtGcHead *g = rti_gc_next(unreachable); g != unreachable; g = rti_gc_next(g)) {
        g->gc_next &= ~RTI_GC_NEXT_UNREACHABLE;
        n++;
    }
    RTI_GC_VALIDATE(unreachable, true, false);
    return n;
}

static void
clear_collecting_all(RtGcHead *list)
{
    for (RtGcHead *g = rti_gc_next(list); g != list; g = rti_gc_next(g))
        rti_gc_clear_collecting(g);
}

/* ==== tuples ============================================================= */

/* A tuple whose items can never be part of a cycle needs no tracking
 * (CPython's _PyTuple_MaybeUntrack): every item is set, and is either not
 * a GC object or an untracked tuple. */
static bool
tuple_may_untrack(RtObject *op)
{
    RtTupleObject *t = (RtTupleObject *)op;
    for (intptr_t i = 0; i < RT_SIZE(op); i++) {
        RtObject *item = t->items[i];
        if (item == NULL)
            return false;
        if (is_gc(item) && (!rt_is_type(item, &rt_tuple_type) || rti_gc_tracked(RTI_AS_GC(item))))
            return false;
    }
    return true;
}

/* Untrack those tuples of list; returns how many objects stay in list (the
 * survivors' count the full-collection heuristic needs, without another
 * walk). */
intptr_t
rti_gc_untrack_tuples(RtGcHead *list)
{
    intptr_t kept = 0;
    RtGcHead *next;
    for (RtGcHead *g = rti_gc_next(list); g != list; g = next) {
        next = rti_gc_next(g);
        RtObject *op = RTI_FROM_GC(g);
        if (rt_is_type(op, &rt_tuple_type) && tuple_may_untrack(op))
            rti_gc_list_remove(g);
        else
            kept++;
    }
    RTI_GC_VALIDATE(list, false, false);
    return kept;
}

/* ==== 4: weak references ================================================= */

/* Clear every weakref to an unreachable object, and every weakref that is
 * itself unreachable (its callback must not run later, from inside
 * delete_garbage, where it could see objects already cleared).  Callbacks
 * run only for weakrefs outside the unreachable set.  Returns the weakrefs
 * that the callbacks left dead (CPython counts them as collected). */
intptr_t
rti_gc_handle_weakrefs(RtGcHead *unreachable, RtGcHead *old)
{
    RtGcHead wrcb_to_call;
    rti_gc_list_init(&wrcb_to_call);
    for (RtGcHead *g = rti_gc_next(unreachable); g != unreachable; g = rti_gc_next(g)) {
        RtObject *op = RTI_FROM_GC(g);
        if (rt_is_type(op, &rt_weakref_type))
            rti_weakref_detach(op);
        RtObject **head = rti_weaklist_slot(op);
        if (head == NULL)
            continue;
        while (*head != NULL) {
            RtObject *wr = *head;
            rti_assert_msg(rt_refcnt(wr) > 0 && rti_gc_tracked(RTI_AS_GC(wr)),
                           "a dead weakref on its referent's list: a weakref must leave the list at "
                           "once when it dies (weakref.c), never wait in the trashcan on it");
            rti_weakref_detach(wr);
            if (!rti_weakref_has_callback(wr) || rti_gc_is_collecting(RTI_AS_GC(wr)))
                continue;
            rt_incref(wr);
            rti_gc_list_move(RTI_AS_GC(wr), &wrcb_to_call);
        }
    }
    intptr_t num_freed = 0;
    while (!rti_gc_list_is_empty(&wrcb_to_call)) {
        RtGcHead *g = rti_gc_next(&wrcb_to_call);
        RtObject *wr = RTI_FROM_GC(g);
        rti_weakref_call(wr);
        rt_decref(wr);
        if (rti_gc_next(&wrcb_to_call) == g)
            rti_gc_list_move(g, old);   /* still alive */
        else
            num_freed++;
    }
    RTI_GC_VALIDATE(unreachable, true, false);
    RTI_GC_VALIDATE(old, false, false);
    return num_freed;
}

/* ==== 5-6: finalizers and resurrection =================================== */

/* Run each object's finalizer once (the FINALIZED bit survives across
 * collections).  Objects move to a side list as they are visited, so a
 * finalizer that frees others cannot derail the walk.  Returns how many
 * finalizers ran. */
intptr_t
rti_gc_finalize_garbage(RtGcHead *collectable)
{
    RtGcHead seen;
    intptr_t ran = 0;
    rti_gc_list_init(&seen);
    while (!rti_gc_list_is_empty(collectable)) {
        RtGcHead *g = rti_gc_next(collectable);
        RtObject *op = RTI_FROM_GC(g);
        rti_gc_list_move(g, &seen);
        rti_assert_msg(rt_refcnt(op) != 0, "an object being collected has a count of 0");
        void (*finalize)(RtObject *) = RT_TYPE(op)->finalize;
        if (finalize != NULL && !rti_gc_finalized(g)) {
            rti_gc_set_finalized(g);
            rt_incref(op);
            finalize(op);
            rt_decref(op);
            ran++;
        }
    }
    rti_gc_list_merge(&seen, collectable);
    RTI_GC_VALIDATE(collectable, true, false);
    return ran;
}

/* Split unreachable into what finalizers resurrected (back to old, with
 * everything it reaches) and what is still unreachable; returns how many
 * are still unreachable. */
intptr_t
rti_gc_handle_resurrected(RtGcHead *unreachable, RtGcHead *still_unreachable, RtGcHead *old)
{
    clear_collecting_all(unreachable);
    rti_gc_deduce_unreachable(unreachable, still_unreachable);
    intptr_t left = rti_gc_clear_unreachable_mask(still_unreachable);
    rti_gc_list_merge(unreachable, old);
    RTI_GC_VALIDATE(old, false, false);
    return left;
}

/* ==== 7: break the cycles ================================================ */

/* Call clear on each object under a temporary reference.  Clearing drops
 * references, so objects free themselves (and unlink from this list) as
 * the cycles break; an object still first in the list after its clear is
 * alive for another reason and moves to old. */
void
rti_gc_delete_garbage(RtGcHead *collectable, RtGcHead *old)
{
    while (!rti_gc_list_is_empty(collectable)) {
        RtGcHead *g = rti_gc_next(collectable);
        RtObject *op = RTI_FROM_GC(g);
        rti_assert_msg(rt_refcnt(op) > 0, "refcount is too small: an object still unreachable after the "
                       "finalizers has a count of 0");
        int (*clear)(RtObject *) = RT_TYPE(op)->clear;
        if (clear != NULL) {
            rt_incref(op);
            clear(op);
            rt_decref(op);
        }
        if (rti_gc_next(collectable) == g) {
            rti_gc_clear_collecting(g);
            rti_gc_list_move(g, old);
        }
    }
    RTI_GC_VALIDATE(old, false, false);
}
