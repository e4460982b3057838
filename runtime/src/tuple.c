/* tuple.c -- fixed-size sequences.
 *
 * A tuple is created with its size, filled once (rt_tuple_init_item) and
 * not changed after, except by the collector's clear, which breaks cycles.
 * Tuples are tracked from creation, as in CPython (which may untrack a
 * tuple of untracked items during a collection; see gc_passes.c).
 */
#include "internal.h"

#include <stdarg.h>

static void
tuple_dealloc(RtObject *op)
{
    rti_gc_untrack(op);
    if (rti_trash_begin(op))
        return;
    rti_decref_items(((RtTupleObject *)op)->items, RT_SIZE(op));    /* last first, with safepoints */
    rt_object_free(op);
    rti_trash_end();
}

static int
tuple_traverse(RtObject *op, RtVisitProc visit, void *arg)
{
    RtTupleObject *t = (RtTupleObject *)op;
    for (intptr_t i = RT_SIZE(op); --i >= 0;) {
        if (t->items[i] != NULL) {
            int r = visit(t->items[i], arg);
            if (r)
                return r;
        }
    }
    return 0;
}

static int
tuple_clear(RtObject *op)
{
    RtTupleObject *t = (RtTupleObject *)op;
    for (intptr_t i = RT_SIZE(op); --i >= 0;)
        rt_clearref(&t->items[i]);
    return 0;
}

static uint64_t
tuple_hash(RtObject *op)
{
    /* CPython's xxHash-style tuple hash, shortened. */
    uint64_t acc = UINT64_C(0x27d4eb2f165667c5);
    RtTupleObject *t = (RtTupleObject *)op;
    for (intptr_t i = 0; i < RT_SIZE(op); i++) {
        uint64_t h = t->items[i] ? rti_object_hash(t->items[i]) : 0;
        acc += h * UINT64_C(0xc2b2ae3d27d4eb4f);
        acc = (acc << 31) | (acc >> 33);
        acc *= UINT64_C(0x9e3779b185ebca87);
    }
    return acc ? acc : 1;
}

static int
tuple_eq(RtObject *a, RtObject *b)
{
    if (RT_SIZE(a) != RT_SIZE(b))
        return 0;
    RtTupleObject *x = (RtTupleObject *)a, *y = (RtTupleObject *)b;
    for (intptr_t i = 0; i < RT_SIZE(a); i++) {
        if (x->items[i] == y->items[i])
            continue;
        if (x->items[i] == NULL || y->items[i] == NULL)
            return 0;
        int r = rt_object_eq(x->items[i], y->items[i]);
        if (r <= 0)
            return r;
    }
    return 1;
}

RtType rt_tuple_type = {
    .name = "tuple",
    .basic_size = offsetof(RtTupleObject, items),
    .item_size = sizeof(RtObject *),
    .flags = RT_TYPE_GC | RT_TYPE_HASHABLE,
    .dealloc = tuple_dealloc,
    .traverse = tuple_traverse,
    .clear = tuple_clear,
    .hash = tuple_hash,
    .eq = tuple_eq,
    .id = RTI_TYPE_ID_TUPLE,
};

RtObject *
rt_tuple_new(intptr_t n)
{
    RtObject *op = rt_object_new_var(&rt_tuple_type, n);
    if (op != NULL)
        rti_gc_track(op);
    return op;
}

RtObject *
rt_tuple_pack(intptr_t n, ...)
{
    RtObject *t = rt_tuple_new(n);
    if (t == NULL)
        return NULL;
    va_list ap;
    va_start(ap, n);
    for (intptr_t i = 0; i < n; i++)
        rt_tuple_init_item(t, i, va_arg(ap, RtObject *));
    va_end(ap);
    return t;
}

#define assert_tuple(op) rti_assert_msg(rt_is_type((op), &rt_tuple_type), "an rt_tuple_* function on a non-tuple")

void
rt_tuple_init_item(RtObject *tuple, intptr_t i, RtObject *item)
{
    assert_tuple(tuple);
    rti_assert_msg(0 <= i && i < RT_SIZE(tuple), "rt_tuple_init_item past the tuple's end");
    RtTupleObject *t = (RtTupleObject *)tuple;
    rt_xincref(item);
    rt_setref(&t->items[i], item);
    /* The collector may have untracked the tuple while it held no GC item. */
    if (item != NULL && (RT_TYPE(item)->flags & RT_TYPE_GC))
        rti_gc_track(tuple);
}

RtObject *
rt_tuple_get(RtObject *tuple, intptr_t i)
{
    assert_tuple(tuple);
    if (i < 0 || i >= RT_SIZE(tuple)) {
        rt_error_set(RT_ERR_INDEX, "tuple index %jd out of range (size %jd)", (intmax_t)i,
                     (intmax_t)RT_SIZE(tuple));
        return NULL;
    }
    return ((RtTupleObject *)tuple)->items[i];
}
