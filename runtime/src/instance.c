/* instance.c -- classes made at run time, and their instances.
 *
 * A class is a heap type whose instances hold N object slots, as a Python
 * class with __slots__ does; it may give its instances a weakref list (like
 * a '__weakref__' slot) and a finalizer (like __del__, run at most once,
 * allowed to resurrect, PEP 442).
 *
 *   instance:  [ GC header | RtObject | slot 0 .. slot N-1 | weaklist? ]
 *
 * Classes are runtime metadata, not objects: they come from the system
 * allocator, are listed in the runtime, and are freed by rt_class_free or
 * at rt_fini.  Instances need their class until they are gone -- and
 * garbage instances may wait for the collector long after their creator
 * dropped the class -- so, as CPython's instances hold their heap type, a
 * class freed while instances live is only marked released and goes with
 * its last instance.
 *
 * Counting the living.  A class with a statistics row of its own keeps no
 * count: the row's live objects are its instances.  Once threads share the
 * runtime each heap has its own row, written without a lock, so threads
 * making and freeing instances of one class never write the same word (a
 * plain count in the class did, from every thread, and lost updates: two
 * threads' instances of one class, ThreadSanitizer).  Alone, the last
 * instance of a released class frees it in its dealloc; with threads, the
 * rows add up only with the world stopped, so a released class goes at the
 * first collection after its last instance (rti_classes_reap) -- CPython
 * 3.14t counts a heap type's references per thread for the same reason, and
 * frees it once the merged count reaches zero.  A class past RT_MAX_TYPES
 * shares the 'other' row: released, it goes at the first collection (or
 * dealloc of one of its instances) that finds no object of that row alive,
 * or at rt_fini.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SLOTS (1u << 20)

typedef struct RtInstance {
    RtObject ob_base;
    RtObject *slots[];
} RtInstance;

#define INST(op) ((RtInstance *)(op))


uint32_t rt_class_nslots(const RtType *cls) { return rti_class_of(cls)->nslots; }

bool
rt_is_instance(const RtObject *op)
{
    return (RT_TYPE(op)->flags & RT_TYPE_HEAP) != 0;
}

static void destroy_class(RtClassList *c);

/* Whether none of c's instances is alive -- for a class on the 'other' row,
 * no object of that row: alone, or the world stopped. */
static bool
class_unused(const RtClassList *c)
{
    return rti_type_live(c->type.id) == 0;
}

/* An instance of a released class gone: alone, the class goes after its
 * last one; with threads, at the next collection (rti_classes_reap), since
 * only then do the rows add up.  Alone the runtime's row is the only one,
 * so class_unused's test is two loads here, inline: through rti_type_live
 * it cost biased cycle_storm 7 instructions a Node (898 -> 905; it frees
 * its class before the collection that frees most of its instances). */
static RT_NOINLINE void
instance_gone(RtClassList *c)
{
    if (!rti_heap_shared() && c->row->allocated == c->row->freed)
        destroy_class(c);
}

/* An instance's block: GC header, object header, slots, weaklist. */
static inline size_t instance_block(const RtType *t) { return sizeof(RtGcHead) + t->basic_size; }

/* Slots are dropped first to last, as CPython's clear_slots does. */
static void
clear_slots(RtObject *op)
{
    uint32_t n = rti_class_of(RT_TYPE(op))->nslots;
    for (uint32_t i = 0; i < n; i++)
        rt_clearref(&INST(op)->slots[i]);
}

/* The finalizer, from dealloc (PEP 442), runs with the object tracked
 * again: a collection it starts sees a live object, and if it resurrects
 * the object, the object stays tracked, at the young end of generation 0.
 * Returns true when it resurrected the object. */
static bool
finalize_resurrects(RtObject *op)
{
    rt_gc_track(op);
    if (rt_object_finalize_from_dealloc(op) < 0)
        return true;
    rti_gc_untrack(op);
    return false;
}

/* The finalizer (true: it resurrected the object), then the weakrefs:
 * out of line, so that the dealloc of a plain instance tests one flag. */
static RT_NOINLINE bool
finalize_or_clear_weakrefs(RtObject *op)
{
    RtType *t = RT_TYPE(op);
    if (t->finalize != NULL && finalize_resurrects(op))
        return true;
    if (t->weaklist_offset != 0)
        rti_weakref_clear_all(op);
    return false;
}

/* CPython's subtype_dealloc, in its order: untrack; the trashcan; the
 * finalizer; the weakrefs (cleared, then their callbacks); the slots. */
static void
instance_dealloc(RtObject *op)
{
    RtType *t = RT_TYPE(op);
    rti_gc_untrack(op);
    if (rti_trash_begin(op))
        return;
    RtClassList *c = rti_class_of(t);
    if (rt_unlikely(!c->plain) && finalize_or_clear_weakrefs(op)) {
        rti_trash_end();
        return;
    }
    clear_slots(op);
    size_t block = instance_block(t);
    rti_object_release(op, c->row, block, (int64_t)block, true);
    if (rt_unlikely(c->released))
        instance_gone(c);
    rti_trash_end();
}

static int
instance_traverse(RtObject *op, RtVisitProc visit, void *arg)
{
    uint32_t n = rti_class_of(RT_TYPE(op))->nslots;
    for (uint32_t i = 0; i < n; i++) {
        RtObject *v = INST(op)->slots[i];
        if (v != NULL) {
            int r = visit(v, arg);
            if (r)
                return r;
        }
    }
    return 0;
}

static int
instance_clear(RtObject *op)
{
    clear_slots(op);
    return 0;
}

RtType *
rt_class_new(const char *name, uint32_t nslots, unsigned options, void (*finalize)(RtObject *))
{
    if (nslots > MAX_SLOTS) {
        rt_error_set(RT_ERR_VALUE, "class '%s': %u slots is more than the %u allowed", name, nslots, MAX_SLOTS);
        return NULL;
    }
    size_t len = strlen(name);
    RtClassList *c = calloc(1, sizeof *c + len + 1);
    if (c == NULL) {
        rti_nomem();
        return NULL;
    }
    memcpy(c->name, name, len + 1);
    c->nslots = nslots;
    size_t slots_end = sizeof(RtInstance) + (size_t)nslots * sizeof(RtObject *);
    bool weak = (options & RT_CLASS_WEAKREF) != 0;
    c->type = (RtType){
        .name = c->name,
        .basic_size = slots_end + (weak ? sizeof(RtObject *) : 0),
        .flags = RT_TYPE_GC | RT_TYPE_HEAP,
        .weaklist_offset = weak ? slots_end : 0,
        .dealloc = instance_dealloc,
        .traverse = instance_traverse,
        .clear = instance_clear,
        .finalize = finalize,
    };
    c->plain = finalize == NULL && !weak;
    c->pair = nslots + weak == 2 || (nslots + weak == 1 && RTI_GC_ONE_FIELD_PAIRS);
    rti_type_register(&c->type);
    c->row = rti_type_counters(&c->type);
    bool held = rti_heap_lock();
    c->next = rti_runtime.classes;
    rti_runtime.classes = c;
    rti_heap_unlock(held);
    return &c->type;
}

/* Unlink and free a class (no instance left). */
static void
destroy_class(RtClassList *c)
{
    bool held = rti_heap_lock();
    RtClassList **pp = &rti_runtime.classes;
    while (*pp != NULL && *pp != c)
        pp = &(*pp)->next;
    bool found = *pp != NULL;
    if (found)
        *pp = c->next;
    rti_heap_unlock(held);
    if (!found)
        return;
    rti_type_unregister(&c->type);
    free(c);
}

/* The live class whose type is cls, or NULL. */
static RtClassList *
find_class(const RtType *cls)
{
    RtClassList *c = NULL;
    bool held = rti_heap_lock();
    for (RtClassList *k = rti_runtime.classes; k != NULL && c == NULL; k = k->next)
        if (&k->type == cls)
            c = k;
    rti_heap_unlock(held);
    return c;
}

bool rti_class_listed(const RtType *cls) { return find_class(cls) != NULL; }

void
rt_class_free(RtType *cls)
{
    bool stopped = rti_world_stop_shared();     /* the rows add up */
    RtClassList *c = find_class(cls);
    if (c != NULL && class_unused(c))
        destroy_class(c);
    else if (c != NULL)
        c->released = true;
    /* else not a live class (e.g. freed with the runtime) */
    rti_world_start_shared(stopped);
}

void
rti_classes_reap(void)
{
    for (RtClassList *c = rti_runtime.classes, *next; c != NULL; c = next) {
        next = c->next;
        if (c->released && class_unused(c))
            destroy_class(c);
    }
}

void
rti_classes_fini(RtRuntime *rt)
{
    while (rt->classes != NULL) {
        RtClassList *c = rt->classes;
        rt->classes = c->next;
        free(c);
    }
}

/* A new instance's slots and weaklist zeroed: one or two words by one
 * 16-byte store in a pool block (quick: op came from a quick path), else
 * word by word. */
static RT_ALWAYS_INLINE void
instance_zero(RtType *cls, RtObject *op, bool quick)
{
    if (quick && rt_likely(rti_class_of(cls)->pair))
        rti_zero_pair(op + 1);
    else
        rti_zero_words(op + 1, (cls->basic_size - sizeof(RtObject)) / sizeof(RtObject *));
}

/* The rest of rt_instance_new, op allocated and counted: zeroed, tracked
 * (after the collection its count called for).  quick: op came from
 * rti_object_alloc_quick (a pool block; no other thread about).  Always
 * inline: the shared branch of the general path made it too large for the
 * compiler, which then called it from the fast path too (biased
 * binary_trees 13 instructions a Node). */
static RT_ALWAYS_INLINE RtObject *
instance_finish(RtType *cls, RtObject *op, bool collect, bool quick)
{
    instance_zero(cls, op, quick);
    return quick ? rti_object_track_new_alone(op, collect) : rti_object_track_new(op, collect);
}

/* rt_instance_new when its block needs a call. */
static RT_NOINLINE RtObject *
instance_new_general(RtType *cls)
{
    size_t block = instance_block(cls);
    bool collect;
    RtObject *op = rti_object_alloc_gc(cls, rti_class_of(cls)->row, block, (int64_t)block, &collect);
    if (op == NULL)
        return NULL;
    return instance_finish(cls, op, collect, false);
}

/* rt_instance_new when its quick path cannot serve: once threads share the
 * runtime, the quick path on the thread's own heap, with no call but tail
 * calls either (the general path cost biased binary_trees 30 instructions
 * a Node more at two threads than one thread's quick path: the block's
 * general path, the zeroing loop, the arena lookup for the track; a stack
 * frame 10 more).  Apart from rt_instance_new: inline there, its registers
 * gave the one-thread path a frame. */
static RT_NOINLINE RtObject *
instance_new_shared(RtType *cls)
{
#if RT_RC_THREADED
    size_t block = instance_block(cls);
    RtObject *op = rti_object_alloc_shared_quick(cls, rti_class_of(cls)->row, block, (int64_t)block);
    if (rt_likely(op != NULL)) {
        instance_zero(cls, op, true);
        return rti_gc_track_new_own(op);
    }
#endif
    return instance_new_general(cls);
}

/* The fast path makes no call but a tail call (internal.h, the object
 * path): no stack frame. */
RtObject *
rt_instance_new(RtType *cls)
{
    size_t block = instance_block(cls);
    bool collect;
    RtObject *op = rti_object_alloc_quick(cls, rti_class_of(cls)->row, block, (int64_t)block, &collect);
    if (rt_unlikely(op == NULL))
        return instance_new_shared(cls);
    return instance_finish(cls, op, collect, true);
}

RtObject *
rt_instance_get(RtObject *inst, uint32_t slot)
{
    rti_assert_msg(rt_is_instance(inst), "an rt_instance_* function on an object that is not an instance");
    if (slot >= rti_class_of(RT_TYPE(inst))->nslots) {
        rt_error_set(RT_ERR_INDEX, "%s has no slot %u", RT_TYPE(inst)->name, slot);
        return NULL;
    }
    return INST(inst)->slots[slot];
}

/* rt_instance_set's drop of the value it replaced (its dealloc may run):
 * out of line; returns 0. */
static RT_NOINLINE int
drop_replaced(RtObject *old)
{
    rt_decref(old);
    return 0;
}

int
rt_instance_set(RtObject *inst, uint32_t slot, RtObject *value)
{
    rti_assert_msg(rt_is_instance(inst), "an rt_instance_* function on an object that is not an instance");
    if (slot >= rti_class_of(RT_TYPE(inst))->nslots) {
        rt_error_set(RT_ERR_INDEX, "%s has no slot %u", RT_TYPE(inst)->name, slot);
        return -1;
    }
    rt_xincref(value);
    RtObject **p = &INST(inst)->slots[slot], *old = *p;
    *p = value;         /* then drop the old value, as rt_setref does */
    if (rt_unlikely(old != NULL))
        return drop_replaced(old);
    return 0;           /* a slot set the first time: no call, no stack frame */
}
