/* list.c -- growable arrays of references, with CPython's over-allocation.
 *
 * Invariants: 0 <= ob_size <= allocated; items[0..ob_size) are the items
 * (NULL only in a list made by rt_list_new(n) and not filled yet);
 * items == NULL exactly when allocated == 0.
 *
 * Growth follows CPython 3.11's list_resize: the new capacity is
 * newsize + newsize/8 + 6, rounded down to a multiple of 4 (a growth rate of
 * about 1.125 that still gives appends amortized O(1): 0, 4, 8, 16, 24, 32,
 * 40, 52, 64, 76, ...); a shrink below half the capacity reallocates.  The
 * item array is an rt_malloc block, so small lists live in the pools.
 */
#include "internal.h"

#include <string.h>

#define LIST(op) ((RtListObject *)(op))
#define assert_list(op) rti_assert_msg(rt_is_type((op), &rt_list_type), "an rt_list_* function on a non-list")

/* The invariants above, cheap enough for every resize. */
static inline void
assert_list_shape(const RtListObject *l)
{
    rti_assert(0 <= RT_SIZE(l) && RT_SIZE(l) <= l->allocated);
    rti_assert((l->items == NULL) == (l->allocated == 0));
}

#define LIST_ROW RTI_BUILTIN_COUNTERS(RTI_TYPE_ID_LIST)
#define LIST_BLOCK (sizeof(RtGcHead) + sizeof(RtListObject))

static void
set_capacity_bytes(RtListObject *l, intptr_t old_alloc, intptr_t new_alloc)
{
    rti_row_extra_bytes(LIST_ROW, (int64_t)(new_alloc - old_alloc) * (int64_t)sizeof(RtObject *));
    l->allocated = new_alloc;
}

static int
list_resize(RtListObject *l, intptr_t newsize)
{
    intptr_t allocated = l->allocated;
    if (allocated >= newsize && newsize >= (allocated >> 1)) {
        RT_SIZE(l) = newsize;
        return 0;
    }
    size_t new_allocated = ((size_t)newsize + ((size_t)newsize >> 3) + 6) & ~(size_t)3;
    if (newsize - RT_SIZE(l) > (intptr_t)(new_allocated - (size_t)newsize))
        new_allocated = ((size_t)newsize + 3) & ~(size_t)3;
    if (newsize == 0)
        new_allocated = 0;
    if (new_allocated > (SIZE_MAX / 2) / sizeof(RtObject *)) {
        rti_nomem();
        return -1;
    }
    RtObject **items = NULL;
    if (new_allocated != 0) {
        items = rt_realloc(l->items, new_allocated * sizeof(RtObject *));
        if (items == NULL)
            return -1;
    } else {
        rt_free(l->items);
    }
    l->items = items;
    RT_SIZE(l) = newsize;
    set_capacity_bytes(l, allocated, (intptr_t)new_allocated);
    assert_list_shape(l);
    return 0;
}

static void
list_dealloc(RtObject *op)
{
    rti_gc_untrack(op);
    if (rti_trash_begin(op))
        return;
    RtListObject *l = LIST(op);
    RtObject **items = l->items;    /* nothing else sees the list now: read once */
    if (items != NULL) {
        rti_decref_items(items, RT_SIZE(op));   /* last first, with safepoints */
        rt_free(items);
        set_capacity_bytes(l, l->allocated, 0);
    }
    rti_object_release(op, LIST_ROW, LIST_BLOCK, 0, true);
    rti_trash_end();
}

static int
list_traverse(RtObject *op, RtVisitProc visit, void *arg)
{
    RtListObject *l = LIST(op);
    for (intptr_t i = RT_SIZE(op); --i >= 0;) {
        if (l->items[i] != NULL) {
            int r = visit(l->items[i], arg);
            if (r)
                return r;
        }
    }
    return 0;
}

/* Detach the items first, so that a dealloc the decrefs trigger sees an
 * empty list, then drop them. */
static int
list_clear(RtObject *op)
{
    RtListObject *l = LIST(op);
    RtObject **items = l->items;
    intptr_t n = RT_SIZE(op), allocated = l->allocated;
    if (items == NULL)
        return 0;
    l->items = NULL;
    RT_SIZE(op) = 0;
    set_capacity_bytes(l, allocated, 0);
    while (--n >= 0)
        rt_xdecref(items[n]);
    rt_free(items);
    return 0;
}

RtType rt_list_type = {
    .name = "list",
    .basic_size = sizeof(RtListObject),
    .flags = RT_TYPE_GC,
    .dealloc = list_dealloc,
    .traverse = list_traverse,
    .clear = list_clear,
    .id = RTI_TYPE_ID_LIST,
};

RtObject *
rt_list_new(intptr_t n)
{
    if (n < 0) {
        rt_error_set(RT_ERR_VALUE, "negative list size %jd", (intmax_t)n);
        return NULL;
    }
    RtListObject *l = (RtListObject *)rti_object_alloc(&rt_list_type, LIST_ROW, LIST_BLOCK, 0, true);
    if (l == NULL)
        return NULL;
    RT_SIZE(l) = 0;
    l->items = NULL;
    l->allocated = 0;
    if (n > 0) {
        l->items = rt_calloc((size_t)n, sizeof(RtObject *));
        if (l->items == NULL) {
            rt_decref((RtObject *)l);
            return NULL;
        }
        RT_SIZE(l) = n;
        set_capacity_bytes(l, 0, n);
    }
    rti_gc_track((RtObject *)l);
    return (RtObject *)l;
}

static int
index_error(const char *what, intptr_t i, intptr_t size)
{
    rt_error_set(RT_ERR_INDEX, "list %s index %jd out of range (size %jd)", what, (intmax_t)i, (intmax_t)size);
    return -1;
}

/* Append when the array is full: grow it first. */
static RT_NOINLINE int
append_resizing(RtListObject *l, RtObject *item)
{
    intptr_t n = RT_SIZE(l);
    if (list_resize(l, n + 1) < 0)
        return -1;
    l->items[n] = rt_newref(item);
    return 0;
}

/* The fast path has room and needs no stack frame: a store, an incref and
 * the new size. */
int
rt_list_append(RtObject *op, RtObject *item)
{
    assert_list(op);
    RtListObject *l = LIST(op);
    intptr_t n = RT_SIZE(op);
    if (rt_unlikely(l->allocated <= n))
        return append_resizing(l, item);
    l->items[n] = rt_newref(item);
    RT_SIZE(op) = n + 1;
    return 0;
}

RtObject *
rt_list_get(RtObject *op, intptr_t i)
{
    assert_list(op);
    if ((size_t)i >= (size_t)RT_SIZE(op)) {
        index_error("get", i, RT_SIZE(op));
        return NULL;
    }
    return LIST(op)->items[i];
}

int
rt_list_set(RtObject *op, intptr_t i, RtObject *item)
{
    assert_list(op);
    if ((size_t)i >= (size_t)RT_SIZE(op))
        return index_error("assignment", i, RT_SIZE(op));
    rt_xincref(item);
    rt_setref(&LIST(op)->items[i], item);
    return 0;
}

int
rt_list_insert(RtObject *op, intptr_t i, RtObject *item)
{
    assert_list(op);
    RtListObject *l = LIST(op);
    intptr_t n = RT_SIZE(op);
    if (i < 0)
        i = i + n < 0 ? 0 : i + n;
    if (i > n)
        i = n;
    if (list_resize(l, n + 1) < 0)
        return -1;
    memmove(&l->items[i + 1], &l->items[i], (size_t)(n - i) * sizeof(RtObject *));
    l->items[i] = rt_newref(item);
    return 0;
}

RtObject *
rt_list_pop(RtObject *op, intptr_t i)
{
    assert_list(op);
    RtListObject *l = LIST(op);
    intptr_t n = RT_SIZE(op);
    if (i < 0)
        i += n;
    if ((size_t)i >= (size_t)n) {
        index_error("pop", i, n);
        return NULL;
    }
    RtObject *item = l->items[i];
    memmove(&l->items[i], &l->items[i + 1], (size_t)(n - i - 1) * sizeof(RtObject *));
    /* Shrinking never fails to keep the items; a failed realloc keeps the
     * old (larger) array, which is still consistent. */
    if (list_resize(l, n - 1) < 0) {
        rt_error_clear();
        RT_SIZE(op) = n - 1;
    }
    return item;
}

int
rt_list_clear(RtObject *op)
{
    assert_list(op);
    return list_clear(op);
}
