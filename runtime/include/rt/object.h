/* rt/object.h -- the object model: header, type slots, reference counting.
 *
 * Every object starts with an RtObject header: a reference count and a type
 * pointer (16 bytes on 64-bit), as PyObject does.  Variable-size objects add
 * an item count (RtVarObject).  Objects of a type with RT_TYPE_GC carry a
 * further 16-byte collector header in front of the RtObject (see rt/gc.h);
 * the header is invisible to code that only holds RtObject pointers.
 *
 * Reference counting comes in three variants fixed at compile time by
 * RT_RC_ATOMIC and RT_RC_BIASED (rt/config.h):
 *   nonatomic  a plain add and subtract, as CPython with the GIL;
 *   atomic     C11 atomics: relaxed increment (taking a reference needs no
 *              ordering: the taker already holds one), release decrement so
 *              that every write to the object happens-before its destruction,
 *              and an acquire fence before deallocation (the classic
 *              shared_ptr / Arc protocol).
 * Immortal objects (small ints, static singletons) hold a negative count,
 * 2^62 below zero.  The atomic variant tests the sign and skips the write,
 * in the spirit of PEP 683, so that shared immortals never bounce cache
 * lines between threads.  The nonatomic variant has one thread, and writes:
 * an increment is one add to memory, a decrement a subtract and a test for
 * zero, with no test of the sign -- an immortal's count moves with its
 * references but stays ~2^62 below zero, never reaching it (CPython 3.12
 * folds its immortality test into an overflow check the same way, to keep
 * it off the path of every operation).  Saves 3 to 4 instructions per
 * reference count operation.
 *
 * Invariant: an object's count equals the number of strong references to it
 * held anywhere (containers, C locals, the collector while it works); the
 * object is deallocated exactly when the count falls to zero.
 */
#ifndef RT_OBJECT_H
#define RT_OBJECT_H

#include "rt/config.h"
#include <stdbool.h>
#if RT_RC_THREADED
#include <stdatomic.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if RT_RC_ATOMIC || RT_RC_BIASED
typedef _Atomic(intptr_t) RtRefcnt;
#else
typedef intptr_t RtRefcnt;
#endif

typedef struct RtType RtType;

#if RT_RC_BIASED
/* The shared count's word: count << 2 | state (rt/brc.h), 32 bits. */
typedef int32_t RtRefShared;

/* CPython 3.13t's fields in 16 bytes, the size of the other variants'
 * header: the owner's thread index and its count in one word, the shared
 * count of the other threads in another (rt/brc.h: the layout, and what
 * the small fields cost against CPython's 32-byte header). */
typedef struct RtObject {
    _Atomic(uint32_t) ob_tid_local;     /* tid << 16 | the owner's count */
    _Atomic(RtRefShared) ob_ref_shared;
    RtType *ob_type;
} RtObject;
#else
typedef struct RtObject {
    RtRefcnt ob_refcnt;     /* strong references; < 0 means immortal */
    RtType *ob_type;
} RtObject;
#endif

typedef struct RtVarObject {
    RtObject ob_base;
    intptr_t ob_size;       /* number of items */
} RtVarObject;

/* Stored count of an immortal object: any negative value is immortal, and
 * this one sits far from both zero and the wrap-around. */
#define RT_IMMORTAL_REFCNT ((intptr_t)(-((intptr_t)1 << 62)))
/* What rt_getrefcount() reports for an immortal, as CPython 3.12 does. */
#define RT_IMMORTAL_REPORTED ((intptr_t)UINT32_MAX)

/* A visit callback receives each object a container refers to; a non-zero
 * return stops the traversal and is passed back to the caller. */
typedef int (*RtVisitProc)(RtObject *child, void *arg);

/* Type flags. */
enum {
    RT_TYPE_GC = 1u << 0,       /* instances carry a GC header and are tracked */
    RT_TYPE_HEAP = 1u << 1,     /* made at run time by rt_class_new() */
    RT_TYPE_HASHABLE = 1u << 2, /* hash and eq are set: usable as a dict key */
};

/* A type: the slots the runtime calls, like CPython's tp_* slots.
 *   dealloc   free an object whose count reached zero: drop what it owns,
 *             untrack it if tracked, release its memory.  Required.
 *   traverse  call visit on every object it holds a strong reference to.
 *             Required for RT_TYPE_GC types.
 *   clear     drop the references that may form cycles (called by the
 *             collector on unreachable objects).  Required for GC types.
 *   finalize  optional; called at most once per object (PEP 442), by the
 *             collector or by dealloc; it may resurrect the object.
 *   hash, eq  optional; dict keys need both.  eq returns 1, 0, or -1.
 */
struct RtType {
    const char *name;
    size_t basic_size;      /* bytes of the object, header included */
    size_t item_size;       /* bytes per item of a variable-size object */
    unsigned flags;
    size_t weaklist_offset; /* offset of an RtObject* weakref list, or 0 */
    void (*dealloc)(RtObject *op);
    int (*traverse)(RtObject *op, RtVisitProc visit, void *arg);
    int (*clear)(RtObject *op);
    void (*finalize)(RtObject *op);
    uint64_t (*hash)(RtObject *op);
    int (*eq)(RtObject *a, RtObject *b);
    uint32_t id;            /* index of the type's statistics (runtime.h) */
};

#define RT_TYPE(op) (((RtObject *)(op))->ob_type)
#define RT_SIZE(op) (((RtVarObject *)(op))->ob_size)

/* Called when a count reaches zero; runs the type's dealloc (in the
 * atomic variant, on the owner thread).  The nonatomic rt_decref calls the
 * type's dealloc itself, one call from zero to the type. */
void rt_dealloc(RtObject *op);

/* The runtime's debug builds (RT_DEBUG >= 1 in its own translation units,
 * runtime/src/debug.h) check that a mortal object's count never goes below
 * zero; everywhere else this compiles to nothing. */
#if defined(RT_DEBUG) && RT_DEBUG >= 1
RT_COLD void rti_assert_fail(const char *expr, const char *why, const char *file, int line, const char *func)
    __attribute__((noreturn));
#define rti_assert_count(e)                                                                          \
    (rt_likely(e) ? (void)0                                                                          \
                  : rti_assert_fail(#e, "a decref without its incref: a mortal object's count would " \
                                    "go below zero", __FILE__, __LINE__, __func__))
#else
#define rti_assert_count(e) ((void)0)
#endif

#if RT_RC_BIASED
#include "rt/brc.h"
#else
static inline intptr_t
rt_refcnt(const RtObject *op)
{
#if RT_RC_ATOMIC
    return atomic_load_explicit((RtRefcnt *)&op->ob_refcnt, memory_order_relaxed);
#else
    return op->ob_refcnt;
#endif
}

/* Set the count of an object nobody else sees yet (a new or a static one). */
static inline void
rt_refcnt_init(RtObject *op, intptr_t n)
{
#if RT_RC_ATOMIC
    atomic_store_explicit(&op->ob_refcnt, n, memory_order_relaxed);
#else
    op->ob_refcnt = n;
#endif
}

static inline bool
rt_is_immortal(const RtObject *op)
{
    return rt_refcnt(op) < 0;
}

static inline void
rt_incref(RtObject *op)
{
#if RT_RC_ATOMIC
    if (rt_unlikely(atomic_load_explicit(&op->ob_refcnt, memory_order_relaxed) < 0))
        return;
    atomic_fetch_add_explicit(&op->ob_refcnt, 1, memory_order_relaxed);
#else
    op->ob_refcnt++;        /* an immortal's too: see above */
#endif
}

static inline void
rt_decref(RtObject *op)
{
#if RT_RC_ATOMIC
    if (rt_unlikely(atomic_load_explicit(&op->ob_refcnt, memory_order_relaxed) < 0))
        return;
    intptr_t old = atomic_fetch_sub_explicit(&op->ob_refcnt, 1, memory_order_release);
    rti_assert_count(old > 0);
    if (old == 1) {
#if RT_TSAN
        /* ThreadSanitizer does not model stand-alone fences; an acquire load
         * gives it (and the hardware) the same ordering. */
        (void)atomic_load_explicit(&op->ob_refcnt, memory_order_acquire);
#else
        atomic_thread_fence(memory_order_acquire);
#endif
        rt_dealloc(op);
    }
#else
    /* Mortal: above zero; immortal: far below it (drifted by at most the
     * references taken and dropped since). */
    rti_assert_count(op->ob_refcnt > 0 || op->ob_refcnt < RT_IMMORTAL_REFCNT / 2);
    if (--op->ob_refcnt == 0)
        op->ob_type->dealloc(op);   /* rt_dealloc, inline: one call to the type */
#endif
}
#endif /* !RT_RC_BIASED */

static inline void
rt_xincref(RtObject *op)
{
    if (op != NULL)
        rt_incref(op);
}

static inline void
rt_xdecref(RtObject *op)
{
    if (op != NULL)
        rt_decref(op);
}

/* Take a new strong reference and return the object, for one-line stores. */
static inline RtObject *
rt_newref(RtObject *op)
{
    rt_incref(op);
    return op;
}

/* Replace *slot by value (a reference the caller gives away) and drop the
 * old value after the store, so that a dealloc it triggers sees the new
 * state (CPython's Py_SETREF). */
static inline void
rt_setref(RtObject **slot, RtObject *value)
{
    RtObject *old = *slot;
    *slot = value;
    rt_xdecref(old);
}

/* Like Py_CLEAR: set the slot to NULL first, then drop the reference. */
static inline void
rt_clearref(RtObject **slot)
{
    RtObject *old = *slot;
    if (old != NULL) {
        *slot = NULL;
        rt_decref(old);
    }
}

/* The count as sys.getrefcount() reports it (without the extra argument
 * reference Python adds); immortals report RT_IMMORTAL_REPORTED. */
intptr_t rt_getrefcount(RtObject *op);

/* Make an object immortal: it is never deallocated by reference counting
 * (use for static singletons and objects that must outlive the runtime). */
void rt_set_immortal(RtObject *op);

/* Count op's references per thread from now on (biased variant; CPython
 * 3.14's per-thread counts, rt/brc.h): for an object every thread will
 * take references to, so that no count is shared between cores.  Call it
 * from the thread that made op, attached, before another thread sees op.
 * While no second thread has attached, op keeps its maker's count (the
 * cheapest there is) and gets its id when one does; a thread that is not
 * attached may count it meanwhile.  Such an object is freed by the first
 * collection (or rt_fini) after its last reference goes, not at once.
 * Returns 0 (also for an immortal, in
 * the variants without per-thread counts, where it does nothing, and when
 * RT_TID_MAX objects are counted per thread already, where op keeps its
 * biased count), or -1
 * with RT_ERR_STATE (another thread's object, or one another thread holds
 * already) or RT_ERR_NOMEM. */
int rt_object_enable_thread_counts(RtObject *op);

/* Allocation of objects.  Both return NULL and set RT_ERR_NOMEM when memory
 * runs out.  Objects of an RT_TYPE_GC type get a collector header and are
 * counted toward generation 0, but are not tracked until rt_gc_track().
 * The returned object has count 1 and zeroed fields after the header. */
RtObject *rt_object_new(RtType *type);
RtObject *rt_object_new_var(RtType *type, intptr_t nitems);
/* Release the memory of an object from its dealloc (GC or not). */
void rt_object_free(RtObject *op);
/* Bytes occupied by an object, collector header included. */
size_t rt_object_sizeof(const RtObject *op);

/* Run the finalizer from dealloc (PEP 442).  Returns 0 when the object may
 * be freed, -1 when the finalizer resurrected it (dealloc must stop). */
int rt_object_finalize_from_dealloc(RtObject *op);

/* Hash and equality through the type's slots (for dict keys).
 * rt_object_eq returns 1, 0, or -1 with an error set. */
uint64_t rt_object_hash(RtObject *op);
int rt_object_eq(RtObject *a, RtObject *b);

#ifdef __cplusplus
}
#endif

#endif /* RT_OBJECT_H */
