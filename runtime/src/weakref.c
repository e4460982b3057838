/* weakref.c -- weak references with callbacks.
 *
 * A weakref points at its referent without owning a reference.  The
 * referent keeps a doubly linked list of the weakrefs to it (the list head
 * is a word of the referent at its type's weaklist_offset), so that when it
 * dies every weakref can be cleared.  Dying happens two ways:
 *
 *   by reference count  the referent's dealloc calls rti_weakref_clear_all:
 *                       all weakrefs are cleared first, then the callbacks of
 *                       those still alive run, in list order, each with the
 *                       cleared weakref (CPython's PyObject_ClearWeakRefs);
 *   by the collector    handle_weakrefs (gc_passes.c) clears them before any
 *                       finalizer or clear runs, and calls only the callbacks
 *                       of weakrefs that are not garbage themselves.
 *
 * A callback runs at most once: it is taken out of the weakref before the
 * call.  A weakref holds its callback argument strongly, so it is a GC type
 * (an argument may refer back to the weakref).
 */
#include "internal.h"

typedef struct RtWeakref {
    RtObject ob_base;
    RtObject *referent;         /* borrowed; NULL once cleared */
    RtWeakCallback callback;    /* NULL when none, or once called */
    RtObject *arg;              /* owned */
    struct RtWeakref *prev, *next;  /* the referent's list */
} RtWeakref;

#define WR(op) ((RtWeakref *)(op))

RtObject **
rti_weaklist_slot(RtObject *op)
{
    size_t off = RT_TYPE(op)->weaklist_offset;
    return off ? (RtObject **)((char *)op + off) : NULL;
}

void
rti_weakref_detach(RtObject *op)
{
    RtWeakref *wr = WR(op);
    if (wr->referent == NULL)
        return;
    RtObject **head = rti_weaklist_slot(wr->referent);
    rti_assert_msg(wr->prev != NULL ? wr->prev->next == wr : *head == op,
                   "a weakref's place in its referent's list is broken");
    rti_assert(wr->next == NULL || wr->next->prev == wr);
    if (wr->prev != NULL)
        wr->prev->next = wr->next;
    else
        *head = (RtObject *)wr->next;
    if (wr->next != NULL)
        wr->next->prev = wr->prev;
    wr->prev = wr->next = NULL;
    wr->referent = NULL;
}

bool rti_weakref_has_callback(const RtObject *op) { return WR(op)->callback != NULL; }

/* Run the callback, once: it is taken out first. */
void
rti_weakref_call(RtObject *op)
{
    RtWeakCallback cb = WR(op)->callback;
    if (cb == NULL)
        return;
    WR(op)->callback = NULL;
    cb(op, WR(op)->arg);
}

/* A referent dying by reference count: CPython's PyObject_ClearWeakRefs.
 * Every weakref is cleared first, so that no callback sees a half-cleared
 * list; then the callbacks of those that have one run, in list order, each
 * weakref held by a reference meanwhile.  A weakref gives its callback up,
 * and its argument with it (CPython's weakref drops its callback object):
 * with one weakref to call, right after the call; with several, after the
 * last call, last first (CPython holds them in a tuple until then).  The
 * weakrefs to call are chained through their prev and next links, unused
 * once they left the list. */
void
rti_weakref_clear_all(RtObject *referent)
{
    RtObject **head = rti_weaklist_slot(referent);
    RtWeakref *first = NULL, *last = NULL;
    while (*head != NULL) {
        RtWeakref *wr = WR(*head);
        rti_weakref_detach((RtObject *)wr);
        if (wr->callback == NULL)
            continue;
        rt_incref((RtObject *)wr);
        wr->prev = last;
        *(last != NULL ? &last->next : &first) = wr;
        last = wr;
    }
    if (first != NULL && first == last) {
        rti_weakref_call((RtObject *)first);
        RtObject *arg = first->arg;
        first->arg = NULL;
        rt_decref((RtObject *)first);
        rt_xdecref(arg);
        return;
    }
    for (RtWeakref *wr = first; wr != NULL; wr = wr->next)
        rti_weakref_call((RtObject *)wr);
    while (last != NULL) {
        RtWeakref *wr = last;
        last = wr->prev;
        wr->prev = wr->next = NULL;
        rt_clearref(&wr->arg);
        rt_decref((RtObject *)wr);
    }
}

/* A weakref leaves its referent's list at once, before anything else: the
 * collector and the referent's dealloc walk that list, and must never meet
 * a dead weakref there (CPython's weakref_dealloc clears it first too).
 * Like CPython's, it does not go through the trashcan, which would leave
 * it waiting, dead, where they can reach it; so deep structures nest and
 * unwind as in CPython.  The one exception is an argument that is itself a
 * weakref: nothing else bounds a chain of those, so that one nests. */
static void
weakref_dealloc(RtObject *op)
{
    rti_gc_untrack(op);
    rti_weakref_detach(op);
    bool nests = WR(op)->arg != NULL && rt_is_type(WR(op)->arg, &rt_weakref_type);
    if (nests && rti_trash_begin(op))
        return;
    rt_clearref(&WR(op)->arg);
    rt_object_free(op);
    if (nests)
        rti_trash_end();
}

static int
weakref_traverse(RtObject *op, RtVisitProc visit, void *arg)
{
    return WR(op)->arg != NULL ? visit(WR(op)->arg, arg) : 0;
}

static int
weakref_clear(RtObject *op)
{
    rti_weakref_detach(op);
    WR(op)->callback = NULL;
    rt_clearref(&WR(op)->arg);
    return 0;
}

RtType rt_weakref_type = {
    .name = "weakref",
    .basic_size = sizeof(RtWeakref),
    .flags = RT_TYPE_GC,
    .dealloc = weakref_dealloc,
    .traverse = weakref_traverse,
    .clear = weakref_clear,
    .id = RTI_TYPE_ID_WEAKREF,
};

RtObject *
rt_weakref_new(RtObject *referent, RtWeakCallback callback, RtObject *arg)
{
    rti_assert_msg(rti_object_alive(referent), "a weak reference to a dead object");
    RtObject **head = rti_weaklist_slot(referent);
    if (head == NULL) {
        rt_error_set(RT_ERR_TYPE, "cannot create weak reference to '%s' object", RT_TYPE(referent)->name);
        return NULL;
    }
    RtWeakref *wr = (RtWeakref *)rt_object_new(&rt_weakref_type);
    if (wr == NULL)
        return NULL;
    wr->referent = referent;
    wr->callback = callback;
    wr->arg = arg ? rt_newref(arg) : NULL;
    wr->next = WR(*head);
    if (*head != NULL)
        WR(*head)->prev = wr;
    *head = (RtObject *)wr;
    rt_gc_track((RtObject *)wr);
    return (RtObject *)wr;
}

RtObject *
rt_weakref_get(RtObject *op)
{
    rti_assert_msg(rt_is_type(op, &rt_weakref_type), "rt_weakref_get on a non-weakref");
    RtObject *r = WR(op)->referent;
    return r != NULL && rti_object_alive(r) ? r : NULL;
}

intptr_t
rt_weakref_count(RtObject *referent)
{
    RtObject **head = rti_weaklist_slot(referent);
    intptr_t n = 0;
    for (RtWeakref *wr = head ? WR(*head) : NULL; wr != NULL; wr = wr->next)
        n++;
    return n;
}
