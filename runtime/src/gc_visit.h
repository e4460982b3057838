/* gc_visit.h -- what each pass of a collection does with one reference,
 * and the walk over an object's references (internal to the collector).
 *
 * Shared by the serial passes (gc_passes.c) and the parallel ones
 * (gc_parallel.c): every loop takes its pass as a constant, so that the
 * compiler makes one copy of the loop per pass with the reference's work
 * inlined -- no call per reference (gc_passes.c, 'Speed').
 *
 * The parallel passes run on several threads at once over one graph: a
 * reference may lead into the part another thread walks, so what they do
 * to a header (SUBTRACT_ATOMIC, MARK) is an atomic operation on its
 * gc_prev word, and every read of that word in those passes is atomic too.
 */
#ifndef RT_GC_VISIT_H
#define RT_GC_VISIT_H

#include "internal.h"

/* Immortal objects keep their count out of the arithmetic: they are always
 * reachable. */
#define IMMORTAL_REFS ((intptr_t)1 << 40)

/* update_refs on one object: gc_refs = its count, COLLECTING set. */
static inline void
update_one(RtGcHead *g)
{
    intptr_t rc = rti_refcnt_collecting(RTI_FROM_GC(g));
    /* CPython's update_refs: the collector never sees a count of 0,
     * since whatever reaches 0 is deallocated at once. */
    rti_assert_msg(rc != 0, "a tracked object with a count of 0: a dealloc left its object tracked "
                   "during its teardown and let something (a finalizer, a callback, an allocation) "
                   "start a collection, which would free the object a second time");
    rti_gc_reset_refs(g, rc < 0 ? IMMORTAL_REFS : rc);
}

/* How far ahead of a pass its lookahead prefetches, in objects. */
#define PREFETCH_DISTANCE 16

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE bool
is_gc(const RtObject *op)
{
    return (RT_TYPE(op)->flags & RT_TYPE_GC) != 0;
}

/* ==== one reference, in each pass ======================================== */

/* What a pass does with each reference it follows.  Every loop below takes
 * the pass as a constant, so the compiler makes one copy of the loop per
 * pass with the reference's work inlined: no call per reference. */
typedef enum Pass { SUBTRACT, REACH, REACH_MARKED, PREFETCH, SUBTRACT_ATOMIC, MARK } Pass;

/* subtract_refs: a reference from inside the set. */
static ALWAYS_INLINE void
decref_child(RtObject *op)
{
    if (!is_gc(op))
        return;
    RtGcHead *g = RTI_AS_GC(op);
    if (rt_likely(rti_gc_is_collecting(g))) {     /* the set refers mostly to itself */
        rti_assert_msg(rti_gc_refs(g) > 0, "refcount is too small: more references from the objects "
                       "being collected than the count says");
        rti_gc_decref(g);
    }
}

/* move_unreachable found g (tentatively unreachable) reachable after all:
 * back to the end of 'young', where the scan reaches it again.  The
 * unreachable list's next words carry the flag, so it is unlinked by
 * hand.  Rare: out of line. */
static RT_NOINLINE __attribute__((unused)) void
revive(RtGcHead *g, RtGcHead *young)
{
    RtGcHead *prev = rti_gc_prev(g);
    RtGcHead *next = (RtGcHead *)(g->gc_next & ~RTI_GC_NEXT_UNREACHABLE);
    prev->gc_next = g->gc_next;     /* keeps the flag */
    rti_gc_set_prev(next, prev);
    rti_gc_list_append(g, young);
    rti_gc_set_refs(g, 1);
}

/* move_unreachable: a reference from an object known to be reachable.
 * An object of another generation, one the scan passed as reachable (no
 * longer COLLECTING), or one ahead of the scan known reachable needs
 * nothing; one with gc_refs 0 ahead of the scan is now known reachable;
 * one the scan moved to the unreachable list (PENDING) comes back.  With
 * 'marked' (mark_pending ran), every object that needs something is
 * PENDING, and one test tells (gc_internal.h); without, the tests are
 * CPython's. */
static ALWAYS_INLINE void
reach_child(RtObject *op, RtGcHead *young, bool marked)
{
    if (!is_gc(op))
        return;
    RtGcHead *g = RTI_AS_GC(op);
    if (marked) {
        if (rt_likely(!rti_gc_pending(g)))
            return;
        if (g->gc_next & RTI_GC_NEXT_UNREACHABLE)
            revive(g, young);
        else
            rti_gc_set_refs(g, 1);      /* ahead of the scan: tell it */
        return;
    }
    if (!rti_gc_is_collecting(g))
        return;
    if (rt_unlikely(rti_gc_pending(g)))
        revive(g, young);
    else if (rti_gc_refs(g) == 0)
        rti_gc_set_refs(g, 1);
}

/* The lookahead: bring a child's GC header and type word toward the
 * cache, for writing. */
static ALWAYS_INLINE void
prefetch_child(RtObject *op)
{
    __builtin_prefetch(RTI_AS_GC(op), 1, 3);
    __builtin_prefetch(&op->ob_type, 1, 3);
}

/* ---- the parallel passes (gc_parallel.c) ---- */

/* The gc_prev word, read while other threads may change it. */
static ALWAYS_INLINE uintptr_t
gc_prev_load(RtGcHead *g)
{
    return __atomic_load_n(&g->gc_prev, __ATOMIC_RELAXED);
}

/* subtract_refs on several threads: the same decrement, atomic, since
 * another thread may take one off the same object at once. */
static ALWAYS_INLINE void
decref_child_atomic(RtObject *op)
{
    if (!is_gc(op))
        return;
    RtGcHead *g = RTI_AS_GC(op);
    if (rt_likely(gc_prev_load(g) & RTI_GC_COLLECTING)) {
        uintptr_t was = __atomic_fetch_sub(&g->gc_prev, (uintptr_t)1 << RTI_GC_REFS_SHIFT, __ATOMIC_RELAXED);
        rti_assert_msg((intptr_t)(was >> RTI_GC_REFS_SHIFT) > 0, "refcount is too small: more references "
                       "from the objects being collected than the count says");
        (void)was;
    }
}

/* The marking's stack of objects found reachable whose references are
 * still to follow, linked through their gc_prev words (gc_refs are done
 * with once an object is marked): no memory to allocate. */
typedef struct RtGcMarkStack {
    RtGcHead *top;
} RtGcMarkStack;

/* Mark g reachable (PENDING, in the parallel passes) if it is being
 * collected and nobody has; on success push it on s.  The atomic or
 * decides between two threads that find g at once. */
static ALWAYS_INLINE void
mark_push(RtGcHead *g, RtGcMarkStack *s)
{
    uintptr_t v = gc_prev_load(g);
    if ((v & (RTI_GC_COLLECTING | RTI_GC_PENDING)) != RTI_GC_COLLECTING)
        return;     /* of another generation, or marked already */
    v = __atomic_fetch_or(&g->gc_prev, RTI_GC_PENDING, __ATOMIC_RELAXED);
    if (v & RTI_GC_PENDING)
        return;     /* another thread was first */
    __atomic_store_n(&g->gc_prev, (uintptr_t)s->top | (v & RTI_GC_FLAGS) | RTI_GC_PENDING, __ATOMIC_RELAXED);
    s->top = g;
}

static ALWAYS_INLINE RtGcHead *
mark_pop(RtGcMarkStack *s)
{
    RtGcHead *g = s->top;
    s->top = (RtGcHead *)(gc_prev_load(g) & ~RTI_GC_FLAGS);
    return g;
}

static ALWAYS_INLINE void
mark_child(RtObject *op, RtGcMarkStack *s)
{
    if (is_gc(op))
        mark_push(RTI_AS_GC(op), s);
}

static ALWAYS_INLINE void
visit_child(Pass pass, RtObject *op, void *arg)
{
    switch (pass) {
    case SUBTRACT: decref_child(op); break;
    case REACH: reach_child(op, arg, false); break;
    case REACH_MARKED: reach_child(op, arg, true); break;
    case PREFETCH: prefetch_child(op); break;
    case SUBTRACT_ATOMIC: decref_child_atomic(op); break;
    case MARK: mark_child(op, arg); break;
    }
}

/* For the traverse slots of the other types. */
static inline int visit_decref(RtObject *op, void *arg) { visit_child(SUBTRACT, op, arg); return 0; }
static inline int visit_reachable(RtObject *op, void *arg) { visit_child(REACH, op, arg); return 0; }
static inline int visit_marked(RtObject *op, void *arg) { visit_child(REACH_MARKED, op, arg); return 0; }
static inline int visit_prefetch(RtObject *op, void *arg) { visit_child(PREFETCH, op, arg); return 0; }
static inline int visit_decref_atomic(RtObject *op, void *arg) { visit_child(SUBTRACT_ATOMIC, op, arg); return 0; }
static inline int visit_mark(RtObject *op, void *arg) { visit_child(MARK, op, arg); return 0; }

static ALWAYS_INLINE void
visit_item(Pass pass, RtObject *op, void *arg)
{
    if (rt_likely(op != NULL))
        visit_child(pass, op, arg);
}

/* items[n - 1] down to items[0], eight at a time: the loop's own work is
 * then under half an instruction per reference. */
static ALWAYS_INLINE void
visit_items_reversed(Pass pass, RtObject **items, size_t n, void *arg)
{
    for (; n >= 8; n -= 8) {
        _Pragma("GCC unroll 8")
        for (size_t k = 1; k <= 8; k++)
            visit_item(pass, items[n - k], arg);
    }
    while (n > 0)
        visit_item(pass, items[--n], arg);
}

/* Visit each object op refers to, in the order of the type's traverse
 * slot, which is CPython's: a list's or a tuple's items last to first
 * (list_traverse, tupletraverse), an instance's slots first to last
 * (traverse_slots), a dict's values and keys entry by entry (dict_traverse).
 * The order decides where move_unreachable puts the objects it finds
 * again, and so the order of the lists from then on: which tuples one pass
 * untracks, the survivors' count, the finalizers' order.  The built-in
 * containers are read inline (instances first: the most common objects of
 * a young generation); other types go through their traverse slot, a call
 * per reference.  tuples: where to count a tuple, refs: where to add the
 * references an instance, list, tuple or dict holds (NULL: nowhere). */
static ALWAYS_INLINE void
for_each_child(Pass pass, RtObject *op, void *arg, intptr_t *tuples, intptr_t *refs)
{
    const RtType *t = RT_TYPE(op);
    if (t->flags & RT_TYPE_HEAP) {
        size_t n;
        RtObject **slots = rti_instance_slots(op, &n);
        if (refs != NULL)
            *refs += (intptr_t)n;
        _Pragma("GCC unroll 2")     /* two at a time: most classes have few slots */
        for (size_t i = 0; i < n; i++)
            if (slots[i] != NULL)
                visit_child(pass, slots[i], arg);
    } else if (t == &rt_list_type || t == &rt_tuple_type) {
        RtObject **items;
        if (t == &rt_tuple_type) {
            items = ((RtTupleObject *)op)->items;
            if (tuples != NULL)
                (*tuples)++;
        } else {
            items = ((RtListObject *)op)->items;   /* not read for a tuple: past a small one's end */
        }
        if (refs != NULL)
            *refs += RT_SIZE(op);
        visit_items_reversed(pass, items, (size_t)RT_SIZE(op), arg);
    } else if (t == &rt_dict_type) {
        intptr_t n;
        RtDictEntry *e = rti_dict_entries(op, &n);
        if (refs != NULL)
            *refs += 2 * n;
        for (intptr_t i = 0; i < n; i++) {
            if (e[i].key != NULL) {
                visit_child(pass, e[i].value, arg);
                visit_child(pass, e[i].key, arg);
            }
        }
    } else {
        static RtVisitProc const visit[] = {[SUBTRACT] = visit_decref, [REACH] = visit_reachable,
                                            [REACH_MARKED] = visit_marked, [PREFETCH] = visit_prefetch,
                                            [SUBTRACT_ATOMIC] = visit_decref_atomic, [MARK] = visit_mark};
        t->traverse(op, visit[pass], arg);
    }
}

/* ==== the lookahead ====================================================== */

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

static ALWAYS_INLINE void
lookahead_step(Lookahead *la)
{
    if (la->far != la->list) {
        RtObject *op = RTI_FROM_GC(la->far);
        if (RT_TYPE(op) == &rt_list_type && ((RtListObject *)op)->items != NULL)
            __builtin_prefetch(((RtListObject *)op)->items, 0, 3);
        la->far = skip(la->list, la->far, 1);
    }
    if (la->near != la->list) {
        for_each_child(PREFETCH, RTI_FROM_GC(la->near), NULL, NULL, NULL);
        la->near = skip(la->list, la->near, 1);
    }
}

#endif /* RT_GC_VISIT_H */
