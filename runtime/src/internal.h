/* internal.h -- what the runtime's files share and the public headers hide.
 *
 * All mutable state of the runtime lives in one RtRuntime (rti_runtime):
 * the allocator heap, the collector state, the error slot, per-type
 * statistics.  Nothing else is a file-scope global, so that a future
 * free-threaded runtime can hand each thread its own heap.
 *
 * Naming: public functions are rt_*, functions shared between the runtime's
 * files are rti_*, file-local ones are plain lowercase verbs.
 */
#ifndef RT_INTERNAL_H
#define RT_INTERNAL_H

#include "rt/rt.h"
#include "rt/bench.h"
#include "debug.h"
#include "pool.h"
#include "gc_internal.h"
#include "thread.h"
#include "brc_internal.h"

#include <stdarg.h>
#include <stdio.h>

#if RT_RC_THREADED
#include <pthread.h>
#endif

#define RT_ERROR_MESSAGE_MAX 160

/* Per-runtime statistics of a type (RtType.id indexes them): plain
 * counters, each updated once per allocation or free (live = allocated -
 * freed); the peaks are taken at sample points (object.c).  The bytes of
 * the live objects, GC headers and owned memory included, are
 * live * unit + bytes: the rows of the fixed-size built-in types (int,
 * list, dict, weakref) have a unit and count only owned memory in 'bytes',
 * so that their objects' allocation and free update one counter each; the
 * other rows (unit 0) add each object's size to 'bytes'. */
typedef struct RtTypeCounters {
    RtType *type;           /* NULL when the slot is free */
    uint64_t allocated;
    uint64_t freed;
    int64_t bytes;
    int64_t unit;           /* bytes of each object, or 0 */
    int64_t live_peak;
    int64_t bytes_peak;
    int64_t unused;         /* pad to 64 bytes: a row is found by a shift */
} RtTypeCounters;

#if RT_RC_THREADED
/* A type's live objects and bytes in one row: a thread heap's as it last
 * added them to the type's running totals (object.c, "Peaks with
 * threads"). */
typedef struct RtTypePublished {
    int64_t live;
    int64_t bytes;
} RtTypePublished;
/* What a thread owns in the threaded variants, one block that moves with
 * it: adopted at attach, abandoned at detach (pool_heap.c).  Its pools and
 * caches (rti_theap points here), its share of the collector's lists
 * (gc_heap.c) and its rows of the type statistics (object.c), which
 * rt_type_stats sums with the runtime's. */
typedef struct RtThreadHeap {
    RtPoolHeap pool;        /* first: every heap pointer is to this */
    RtGcHeap gc;
    RtTypeCounters types[RT_MAX_TYPES];
    RtTypePublished published[RT_MAX_TYPES];
} RtThreadHeap;
/* A type's live objects and bytes summed over the runtime's row and every
 * thread heap's as published, and their peaks (object.c). */
typedef struct RtTypeTotals {
    _Atomic int64_t live;
    _Atomic int64_t bytes;
    _Atomic int64_t live_peak;
    _Atomic int64_t bytes_peak;
} RtTypeTotals;
/* The arenas' hook for a new heap (gc_heap.c). */
void rti_thread_heap_init(RtPoolHeap *ph);
#endif

typedef struct RtFault {
    uint64_t countdown;     /* allocations left before the failure; 0 = off */
    bool persistent;        /* keep failing once fired */
    bool firing;            /* persistent and fired: every call fails */
    uint64_t fired;         /* allocations failed since armed */
} RtFault;

/* The debug backend's state (alloc_debug.c): a ring of freed blocks kept
 * poisoned for a while, so that double frees and writes after free show. */
#define RTI_DEBUG_QUARANTINE 1024
typedef struct RtDebugHeap {
    void *quarantine[RTI_DEBUG_QUARANTINE];
    size_t next;            /* ring position to fill next */
    uint32_t serial;        /* allocations made, for reports */
} RtDebugHeap;

typedef struct RtHeap {
    RtAllocKind backend;
    /* rt_malloc's fast path serves sizes 1..fast_small from the pool's
     * classes: RT_SMALL_REQUEST_THRESHOLD when the backend is pool and no
     * fault is armed, else 0 (one compare tests size and state at once). */
    size_t fast_small;
    bool pool_free;         /* backend is pool (rt_free's fast path) */
    const RtAllocator *vt;  /* the backend's entry points */
    RtFault fault;
    RtStatCount blocks;     /* blocks of non-pool backends */
    RtArenas arenas;        /* the pools' arenas, shared by every heap */
#if !RT_RC_THREADED
    /* The pools' heap (pool and debug backends); in the threaded variants
     * each attached thread has one (RtThreadHeap, rti_theap). */
    RtPoolHeap pool;
#endif
    RtDebugHeap debug;
} RtHeap;

typedef struct RtRuntime RtRuntime;
struct RtRuntime {
    bool initialized;
    RtConfig config;
    RtHeap heap;
    RtGcState gc;
    RtTypeCounters types[RT_MAX_TYPES];
    uint32_t ntypes;                /* rows ever used: types[0..ntypes) */
    struct RtClassList *classes;    /* heap types made by rt_class_new */
#if RT_RC_THREADED
    pthread_t owner;
    _Atomic(RtObject *) pending;    /* objects freed on other threads */
    RtThreads threads;              /* attached threads (thread.c) */
    RtTypeTotals type_totals[RT_MAX_TYPES];     /* once threads share the runtime */
#endif
};

extern RtRuntime rti_runtime;

/* The calling thread's pool heap (pool_heap.c): the runtime's one in the
 * nonatomic variant, at an address the compiler knows; the attached
 * thread's own in the threaded ones (NULL on a thread not attached, which
 * must not allocate or free blocks: it only takes and drops references). */
#if RT_RC_THREADED
extern _Thread_local RtPoolHeap *rti_theap;
static inline RtPoolHeap *
rti_pool_heap(void)
{
    rti_assert_msg(rti_theap != NULL, "a thread not attached (rt_thread_attach) allocates or frees");
    return rti_theap;
}
static inline RtThreadHeap *rti_thread_heap(void) { return (RtThreadHeap *)rti_pool_heap(); }
#else
static inline RtPoolHeap *rti_pool_heap(void) { return &rti_runtime.heap.pool; }
#endif

/* In a spin-wait loop: let the other hyperthread run, save power. */
static inline void
rti_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* ---- threads: the heap lock and the safepoint (thread.h) ---- */
#if RT_RC_THREADED
static inline unsigned
rti_mode(void)
{
    return atomic_load_explicit(&rti_runtime.threads.mode, memory_order_relaxed);
}
/* Take the heap lock if mode says threads share the heap; returns whether
 * it was taken. */
static inline bool
rti_heap_lock_in(unsigned mode)
{
    if (rt_likely(!(mode & RTI_MODE_SHARED)))
        return false;
    pthread_mutex_lock(&rti_runtime.threads.heap_lock);
    return true;
}
/* Take the heap lock when a second thread ever attached.  Cost with one
 * thread: a relaxed load and a branch. */
static inline bool rti_heap_lock(void) { return rti_heap_lock_in(rti_mode()); }
static inline void
rti_heap_unlock(bool held)
{
    if (held)
        pthread_mutex_unlock(&rti_runtime.threads.heap_lock);
}
static inline bool
rti_heap_shared(void)
{
    return (rti_mode() & RTI_MODE_SHARED) != 0;
}
/* Stop the world if threads share the runtime (a stop nests: a thread
 * that stopped it may stop it again); returns whether to start it. */
static inline bool
rti_world_stop_shared(void)
{
    if (!rti_heap_shared())
        return false;
    rti_world_stop();
    return true;
}
static inline void
rti_world_start_shared(bool stopped)
{
    if (stopped)
        rti_world_start();
}
/* A safepoint.  Cost when no stop is asked: a relaxed load and a branch. */
static inline void
rti_safepoint(void)
{
    if (rt_unlikely(rti_mode() & RTI_MODE_STOP))
        rti_safepoint_slow();
}
#else
static inline double rti_world_stop(void) { return 0.0; }
static inline void rti_world_start(void) {}
static inline unsigned rti_mode(void) { return 0; }
static inline void rti_safepoint_slow(void) {}
static inline bool rti_heap_lock_in(unsigned mode) { (void)mode; return false; }
static inline bool rti_heap_lock(void) { return false; }
static inline bool rti_heap_shared(void) { return false; }
static inline bool rti_world_stop_shared(void) { return false; }
static inline void rti_world_start_shared(bool stopped) { (void)stopped; }
static inline void rti_heap_unlock(bool held) { (void)held; }
static inline void rti_safepoint(void) {}
#endif
static inline bool
rti_no_collect_here(void)
{
#if RT_RC_THREADED
    return rti_no_collect;
#else
    return false;
#endif
}

/* Safepoints in the deallocs of large containers (list, tuple, dict): one
 * every RTI_DEALLOC_SAFEPOINT items, so that a thread dropping a large
 * container parks within microseconds when another stops the world, not
 * after its last item (cycle_storm --n 20000 --rounds 32 at two threads,
 * biased, 15 alternated runs: the longest wait for a safepoint 807 us
 * (median of the runs'), the waits 18.8 ms a run; 196 us and 8.4 ms with
 * these, the run 0.956x the time).  Sound at any point between two
 * items: the container is dead and untracked, so no other thread and no
 * collection reads it; the items it still holds are references a
 * collection cannot see, so it keeps them, as it keeps what a running
 * thread's locals hold; and each drop is over before the safepoint.  Where
 * a dealloc must not park, the safepoint does not: the stopper's own
 * clears (the world stopped here), a parked thread's task (it is parked),
 * the stopper's call of a task as a peer (stw.c), and a detaching thread's
 * merge, which holds the world lock, so that no stop is asked meanwhile.
 * CPython's free-threaded build has none here: a list of plain objects is
 * freed with no safepoint (a finalizer's code may have one). */
#define RTI_DEALLOC_SAFEPOINT 1024

#if RT_RC_THREADED
/* rti_decref_items past RTI_DEALLOC_SAFEPOINT items: all but the last
 * chunk's, with a safepoint after each chunk; returns how many are left
 * (object.c). */
intptr_t rti_decref_items_chunked(RtObject **items, intptr_t n);
#endif

/* Drop the references items[0..n) hold, last first, with the deallocs'
 * safepoints (list, tuple).  Cost: one compare more than the plain loop;
 * the chunks are out of line (a second copy of the loop in the dealloc
 * made GCC call rt_decref out of line in the biased list_dealloc, and the
 * chunks' arithmetic cost every 2-item list 11 instructions: dict_churn a
 * step). */
static inline void
rti_decref_items(RtObject **items, intptr_t n)
{
#if RT_RC_THREADED
    if (rt_unlikely(n > RTI_DEALLOC_SAFEPOINT))
        n = rti_decref_items_chunked(items, n);
#endif
    for (intptr_t i = n; --i >= 0;)
        rt_xdecref(items[i]);
}

/* Fixed ids of the built-in types; classes get the ids after them. */
enum {
    RTI_TYPE_ID_OTHER = 0,
    RTI_TYPE_ID_INT,
    RTI_TYPE_ID_STR,
    RTI_TYPE_ID_TUPLE,
    RTI_TYPE_ID_LIST,
    RTI_TYPE_ID_DICT,
    RTI_TYPE_ID_WEAKREF,
    RTI_TYPE_ID_FIRST_CLASS,
};

/* ---- errors ---- */
RtObject *rti_nomem(void);          /* set RT_ERR_NOMEM, return NULL */
void rti_error_setv(RtError err, const char *fmt, va_list ap);

/* ---- allocator (alloc.c, pool.c, alloc_debug.c, alloc_dl.c) ---- */
int rti_heap_init(RtHeap *heap, RtAllocKind backend, double arena_decay_s);
void rti_heap_fini(RtHeap *heap);
void rti_heap_refresh_fast_path(RtHeap *heap);
const RtAllocator *rti_dl_allocator(RtAllocKind kind);  /* NULL: unavailable */
const char *rti_dl_unavailable_reason(RtAllocKind kind);
const RtAllocator *rti_dl_allocator_direct(RtAllocKind kind);
extern const RtAllocator rti_malloc_allocator;
extern const RtAllocator rti_pool_allocator;
extern const RtAllocator rti_debug_allocator;
int rti_debug_init(RtHeap *heap);
void rti_debug_flush(RtHeap *heap);
/* Trim the pool (rt_alloc_trim); by_rule: after a full collection, the
 * retained arenas go by the retention rule instead of all at once. */
void rti_alloc_trim(bool by_rule);

/* ---- objects and types (object.c) ---- */
void rti_types_init(RtRuntime *rt);
int rti_type_register(RtType *type);        /* assign a statistics slot */
/* Objects of the statistics row id alive now (allocated - freed, every
 * heap's row summed): the world stopped once threads share the runtime. */
int64_t rti_type_live(uint32_t id);
#if RT_RC_THREADED
/* The types' running totals made exact when a second thread comes to
 * share the runtime (object.c), the world stopped. */
void rti_types_share(void);
#endif
void rti_type_unregister(RtType *type);
void rti_classes_fini(RtRuntime *rt);
/* Free each released class none of whose instances is alive: alone, or
 * the world stopped (a collection's end). */
void rti_classes_reap(void);
/* Whether cls is a class not freed yet (tests). */
bool rti_class_listed(const RtType *cls);
/* Bound the recursion of container deallocs (object.c):
 *     rt_gc_untrack(op); if (rti_trash_begin(op)) return;
 *     ... drop references, free ...; rti_trash_end(); */
#define RTI_TRASH_LIMIT 50
bool rti_trash_begin(RtObject *op);
void rti_trash_end(void);
/* An object whose last reference went on another thread (atomic variant). */
bool rti_is_pending(const RtObject *op);
static inline bool
rti_object_alive(const RtObject *op)
{
    intptr_t rc = rt_refcnt(op);
    return rc > 0 || (rc < 0 && !rti_is_pending(op));
}
static inline RtTypeCounters *rti_type_counters(const RtType *t) { return &rti_runtime.types[t->id]; }
/* A built-in type's row, at an address the compiler knows. */
#define RTI_BUILTIN_COUNTERS(id) (&rti_runtime.types[(id)])
/* The start of an object's memory block (its GC header for GC types). */
static inline void *rti_object_block(RtObject *op)
{
    return (RT_TYPE(op)->flags & RT_TYPE_GC) ? (void *)RTI_AS_GC(op) : (void *)op;
}

/* ---- instances (instance.c) ---- */
/* A class made by rt_class_new (instance.c says how classes live), here so
 * that the collector's passes read its slot count inline. */
typedef struct RtClassList {
    struct RtClassList *next;
    RtType type;
    uint32_t nslots;
    bool released;          /* rt_class_free was called */
    bool plain;             /* no finalizer and no weakref list */
    bool pair;              /* fields zeroed by rti_zero_pair (slots, weaklist) */
    RtTypeCounters *row;    /* its statistics row: its live instances (instance.c) */
    char name[];
} RtClassList;

static inline RtClassList *
rti_class_of(const RtType *t)
{
    return (RtClassList *)((char *)t - offsetof(RtClassList, type));
}

/* An instance's slots follow its header; the weakref list, if any, follows
 * the slots.  Read inline by the collector's hot passes. */
static inline RtObject **
rti_instance_slots(RtObject *op, size_t *n)
{
    *n = rti_class_of(RT_TYPE(op))->nslots;
    return (RtObject **)(op + 1);
}

/* ---- dicts (dict.c) ---- */
/* An entry of a dict's entry array; key == NULL: deleted. */
typedef struct RtDictEntry {
    uint64_t hash;
    RtObject *key;
    RtObject *value;
} RtDictEntry;
/* A dict's entry array and its length (deleted entries included), for the
 * collector's passes to read inline; NULL and 0 for an empty dict. */
RtDictEntry *rti_dict_entries(RtObject *op, intptr_t *n);

/* ---- weakrefs (weakref.c) ---- */
/* The weakref list head of an object, or NULL if its type has none. */
RtObject **rti_weaklist_slot(RtObject *op);
/* Clear every weakref to a dying object and call the callbacks of those
 * that are alive (from the referent's dealloc). */
void rti_weakref_clear_all(RtObject *op);
void rti_weakref_detach(RtObject *wr);      /* referent = NULL, unlink */
bool rti_weakref_has_callback(const RtObject *wr);
void rti_weakref_call(RtObject *wr);        /* run the callback, once */

#include "gc_track.h"      /* the collector's counts, track and untrack */

/* ---- ints and strings ---- */
void rti_small_ints_init(void);             /* by rti_types_init */
uint64_t rti_hash_bytes(const char *data, size_t len);
/* A str's hash, computed on first use and cached (str.c's hash slot;
 * rti_object_hash calls it inline, without the type's indirect call).  The
 * cache is read and written with relaxed atomics (plain moves on x86):
 * threads may hash one str at once, and each writes the same value (as
 * CPython 3.13t caches a str's hash). */
static inline uint64_t
rti_str_hash(RtObject *op)
{
    RtStrObject *s = (RtStrObject *)op;
    uint64_t hash = __atomic_load_n(&s->hash, __ATOMIC_RELAXED);
    if (hash == 0) {
        hash = rti_hash_bytes(s->data, rt_str_len(op));
        __atomic_store_n(&s->hash, hash, __ATOMIC_RELAXED);
    }
    return hash;
}

/* rt_object_hash for the runtime's own callers (dict keys, tuple items): a
 * str's hash inline -- every workload's keys -- else through the type
 * (its indirect call cost a dict lookup 12 instructions). */
static inline uint64_t
rti_object_hash(RtObject *op)
{
    return rt_is_type(op, &rt_str_type) ? rti_str_hash(op) : rt_object_hash(op);
}

/* ---- the object path (inline: the types' constructors and deallocs) ----
 *
 * From a type's constructor to the pool and back, one inline step each
 * way: a fixed-size object (its block size a constant, or the type's) is a
 * pop of its class's free cache, a few header stores and two counter
 * increments; its dealloc is two counter decrements and a push -- no call
 * to recompute its size, no arena map lookup (the size gives the class),
 * no memset.  Everything else takes rt_malloc and rt_free: another
 * backend, an armed fault (rt_malloc then fails on purpose), a block too
 * large for the pools. */

/* Zero nwords words at p.  For the few words of a small object a call to
 * memset costs more than the stores, and GCC turns a plain zeroing loop
 * into such a call (-ftree-loop-distribute-patterns): RTI_OPAQUE on the
 * index hides the pattern. */
static inline void
rti_zero_words(void *p, size_t nwords)
{
    uintptr_t *w = p;
    for (size_t i = 0; i < nwords; i++) {
        RTI_OPAQUE(i);
        w[i] = 0;
    }
}

/* Zero the two words at p (8-byte aligned), or one where the block has
 * the room to round it up to two: one 16-byte store (movups; as fast as an
 * aligned one where p is aligned). */
static inline void
rti_zero_pair(void *p)
{
    typedef struct __attribute__((may_alias)) { uintptr_t a, b; } Pair;
    *(Pair *)p = (Pair){0, 0};
}

/* Where the fields of a GC object begin in its block; a pool block ends on
 * a 16-byte boundary, so a single word of fields has a second word of room
 * after it exactly when they begin on one (16 + 16 bytes of headers; not
 * the biased variant's 16 + 24). */
#define RTI_GC_FIELDS_OFFSET (sizeof(RtGcHead) + sizeof(RtObject))
#define RTI_GC_ONE_FIELD_PAIRS (RTI_GC_FIELDS_OFFSET % 16 == 0)

/* A block of block bytes (1..) for a new object, from the calling thread's
 * pool heap ph, or NULL with RT_ERR_NOMEM. */
static inline void *
rti_object_block_alloc_in(RtPoolHeap *ph, size_t block)
{
    RtHeap *heap = &rti_runtime.heap;
    if (rt_likely(block - 1 < heap->fast_small))
        return rti_pool_alloc_class(ph, RTI_SIZE_CLASS(block));
    return rt_malloc(block);
}
static inline void *rti_object_block_alloc(size_t block) { return rti_object_block_alloc_in(rti_pool_heap(), block); }

/* Give back a block rti_object_block_alloc(block) returned: with the pool
 * backend, a small block's class is its size's. */
static inline void
rti_object_block_free(void *mem, size_t block)
{
    RtHeap *heap = &rti_runtime.heap;
    if (rt_likely(heap->pool_free) && block <= RT_SMALL_REQUEST_THRESHOLD)
        rti_pool_free_class(rti_pool_heap(), mem, RTI_SIZE_CLASS(block));
    else
        rt_free(mem);
}

/* A new object's count: 1, owned by the caller.  The biased variant writes
 * both of its count words with one 8-byte store, not an atomic: the block
 * is the caller's alone -- no other thread has seen it since the pool gave
 * it out, and the free that gave it back happened-before (a free cache, or
 * an atomic hand-over through a delayed list).  One instruction an object
 * fewer than two relaxed stores (callgrind). */
static inline void
rti_refcnt_init_new(RtObject *op)
{
#if RT_RC_BIASED && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    _Static_assert(offsetof(RtObject, ob_ref_shared) == sizeof(uint32_t), "the count words share 8 bytes");
    rti_assert_count(rt_thread_tag != RT_THREAD_TAG_NONE);
    /* ob_tid_local: the tag (count field 0) plus 1; ob_ref_shared, 0, in the
     * high half.  An add, not an or: GCC zero-extended an or once more. */
    uint64_t words = (uint64_t)rt_thread_tag + 1;
    __builtin_memcpy(op, &words, sizeof words);
#else
    rt_refcnt_init(op, 1);
#endif
}

/* An object's count as a collection reads it: no attached thread changes
 * a count while a collection runs (the world is stopped, or one thread is
 * attached), so the biased variant reads both count words with one 8-byte
 * load -- the local field in the low half, the shared count in the high
 * one, shifted down in one arithmetic shift (one instruction an object
 * and pass fewer than rt_refcnt's two loads; callgrind).  Atomic, relaxed:
 * a thread that is not attached is not stopped, and may add to or take
 * from a shared count meanwhile (as rt_refcnt's loads allow); the load is
 * then a read of an atomic word, as ThreadSanitizer sees it, not a race. */
static inline intptr_t
rti_refcnt_collecting(const RtObject *op)
{
#if RT_RC_BIASED && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t words = __atomic_load_n((const uint64_t *)(const void *)op, __ATOMIC_RELAXED);
    uint32_t local = (uint32_t)words & RT_REF_LOCAL_MASK;
    if (rt_unlikely(local >= RT_REF_LOCAL_THREADS))
        return rt_brc_refcnt_special(op);
    return (intptr_t)local + ((int64_t)words >> (32 + RT_REF_SHARED_SHIFT));
#else
    return rt_refcnt(op);
#endif
}

/* The headers of a new object in the block mem: the GC header zeroed
 * (untracked) when gc, count 1, the type.  Returns the object. */
static inline RtObject *
rti_object_init_headers(uint8_t *mem, RtType *type, bool gc)
{
    RtObject *op = (RtObject *)mem;
    if (gc) {
        RtGcHead *g = (RtGcHead *)mem;
        g->gc_next = 0;
        g->gc_prev = 0;
        op = RTI_FROM_GC(g);
    }
    rti_refcnt_init_new(op);
    op->ob_type = type;
    return op;
}

/* A new object of `bytes` counted in the statistics row c (the runtime's,
 * or a thread heap's). */
static inline void
rti_row_count_new(RtTypeCounters *c, int64_t bytes)
{
    c->allocated++;
    c->bytes += bytes;
}

/* A new object in the block mem, counted (below); *collect says whether
 * the collector's count called for a collection. */
static inline RtObject *
rti_object_init_counted(uint8_t *mem, RtType *type, RtTypeCounters *c, int64_t bytes, bool gc, bool *collect)
{
    RtObject *op = rti_object_init_headers(mem, type, gc);
    rti_row_count_new(c, bytes);
    *collect = gc && rti_gc_count_alloc(&rti_runtime.gc);
    return op;
}

/* The body of rti_object_alloc (below) with no other thread about, but
 * for the collection: *collect says whether the count called for one. */
static inline RtObject *
rti_object_alloc_counted(RtType *type, RtTypeCounters *c, size_t block, int64_t bytes, bool gc, bool *collect)
{
    *collect = false;
    uint8_t *mem = rti_object_block_alloc(block);
    if (rt_unlikely(mem == NULL))
        return NULL;
    return rti_object_init_counted(mem, type, c, bytes, gc, collect);
}

/* The body of rti_object_alloc (below) with no other thread about. */
static RT_ALWAYS_INLINE RtObject *
rti_object_alloc_alone(RtType *type, RtTypeCounters *c, size_t block, int64_t bytes, bool gc)
{
    bool collect;
    RtObject *op = rti_object_alloc_counted(type, c, block, bytes, gc, &collect);
    if (rt_unlikely(collect))
        rti_gc_collect_scheduled(&rti_runtime.gc);
    return op;
}

#if RT_RC_THREADED
/* Once threads share the runtime, each counts in its heap's row of a type
 * (RtThreadHeap.types): th's, or the caller's, whose runtime row is c. */
static inline RtTypeCounters *
rti_heap_row(RtThreadHeap *th, const RtTypeCounters *c)
{
    return &th->types[c - rti_runtime.types];
}
static inline RtTypeCounters *rti_own_row(const RtTypeCounters *c) { return rti_heap_row(rti_thread_heap(), c); }

/* The body of rti_object_alloc once threads share the runtime and no stop
 * is asked: no lock -- the block from the thread's own heap, the counts in
 * its heap's row and its collector count (which may collect).  Always
 * inline, as the body alone: out of line it cost 66 instructions more per
 * int allocated and freed (163 against 97) and twice the time, so that two
 * threads did no more than one alone. */
static RT_ALWAYS_INLINE RtObject *
rti_object_alloc_shared(RtType *type, RtTypeCounters *c, size_t block, int64_t bytes, bool gc)
{
    RtThreadHeap *th = rti_thread_heap();      /* once: the stores below might alias it */
    uint8_t *mem = rti_object_block_alloc_in(&th->pool, block);
    if (rt_unlikely(mem == NULL))
        return NULL;
    RtObject *op = rti_object_init_headers(mem, type, gc);
    rti_row_count_new(rti_heap_row(th, c), bytes);
    if (gc)
        rti_gc_count_shared(&rti_runtime.gc, 1);
    return op;
}

/* The threaded variants when a stop is asked (thread.h): park first (a
 * safepoint), then allocate (object.c). */
RtObject *rti_object_alloc_threaded(RtType *type, RtTypeCounters *c, size_t block, int64_t bytes, bool gc);

/* rti_object_alloc's threaded branch, the mode word (not 0) read: inline
 * while threads share the runtime and no stop is asked, else out of line. */
static RT_ALWAYS_INLINE RtObject *
rti_object_alloc_moded(unsigned mode, RtType *type, RtTypeCounters *c, size_t block, int64_t bytes, bool gc)
{
    if (rt_likely(mode == RTI_MODE_SHARED))
        return rti_object_alloc_shared(type, c, block, bytes, gc);
    return rti_object_alloc_threaded(type, c, block, bytes, gc);
}
#endif

/* A new object of type: block bytes, GC header included when gc; count 1,
 * the GC header zeroed (untracked), counted in its type's row c (bytes: the
 * object's size for a row without a unit, else 0) and, for GC types,
 * toward generation 0 (which may collect).  The caller sets every other
 * field.  NULL with RT_ERR_NOMEM.  The threaded variants test one mode
 * word first (cost with one thread: a load and a branch), then go inline
 * too while threads share the runtime and no stop is asked. */
static RT_ALWAYS_INLINE RtObject *
rti_object_alloc(RtType *type, RtTypeCounters *c, size_t block, int64_t bytes, bool gc)
{
#if RT_RC_THREADED
    unsigned mode = rti_mode();
    if (rt_unlikely(mode != 0))
        return rti_object_alloc_moded(mode, type, c, block, bytes, gc);
#endif
    return rti_object_alloc_alone(type, c, block, bytes, gc);
}

/* rti_object_alloc for a GC type whose constructor tracks its object at
 * once and cannot fail after the allocation (instances): the collection
 * the count calls for waits for rti_object_track_new, the constructor's
 * last step, which runs it before tracking the object (as CPython
 * collects inside the allocation, before its caller tracks the object) as
 * a tail call -- so that the constructor's fast path makes no call. */
static inline RtObject *
rti_object_alloc_gc(RtType *type, RtTypeCounters *c, size_t block, int64_t bytes, bool *collect)
{
#if RT_RC_THREADED
    unsigned mode = rti_mode();
    if (rt_unlikely(mode != 0)) {
        *collect = false;       /* the shared count collects by itself */
        return rti_object_alloc_moded(mode, type, c, block, bytes, true);
    }
#endif
    return rti_object_alloc_counted(type, c, block, bytes, true, collect);
}

/* rti_object_alloc_gc with no call at all: NULL, nothing done, when the
 * block needs one (a slow path of the pool, another backend, an armed
 * fault, a large block, other threads about) -- for a constructor to take
 * rti_object_alloc_gc then, as a tail call to its general path. */
static inline RtObject *
rti_object_alloc_quick(RtType *type, RtTypeCounters *c, size_t block, int64_t bytes, bool *collect)
{
    if (rt_unlikely(rti_mode() != 0 || block - 1 >= rti_runtime.heap.fast_small))
        return NULL;
    uint8_t *mem = rti_pool_alloc_quick(rti_pool_heap(), RTI_SIZE_CLASS(block));
    if (rt_unlikely(mem == NULL))
        return NULL;
    return rti_object_init_counted(mem, type, c, bytes, true, collect);
}

#if RT_RC_THREADED
/* rti_object_alloc_quick once threads share the runtime and no stop is
 * asked: a GC block from the caller's own pools, counted in its heap's row
 * and collector count, with no call at all; NULL, nothing done, where that
 * needs one -- the pool's slow path, or a count that would reach its flush
 * (which may collect: the general path flushes, collects, then allocates,
 * in CPython's order).  So a constructor's shared path needs no stack frame
 * either.  For a constructor that tracks the object at once:
 * rti_gc_track_new_own. */
static inline RtObject *
rti_object_alloc_shared_quick(RtType *type, RtTypeCounters *c, size_t block, int64_t bytes)
{
    if (rt_unlikely(rti_mode() != RTI_MODE_SHARED || block - 1 >= rti_runtime.heap.fast_small))
        return NULL;
    RtThreadHeap *th = rti_thread_heap();
    if (rt_unlikely(th->gc.delta + 1 >= th->gc.limit))
        return NULL;
    uint8_t *mem = rti_pool_alloc_quick(&th->pool, RTI_SIZE_CLASS(block));
    if (rt_unlikely(mem == NULL))
        return NULL;
    RtObject *op = rti_object_init_headers(mem, type, true);
    rti_row_count_new(rti_heap_row(th, c), bytes);
    th->gc.delta++;     /* rti_gc_count_shared's +1, its flush ruled out above */
    return op;
}
#endif

/* rti_object_track_new for an object from rti_object_alloc_quick: no
 * other thread was about (the mode word was 0), and none is now -- the
 * mode changes only with the world stopped, at a safepoint this thread
 * has not reached since -- so the mode word is not read again (biased
 * binary_trees 3 instructions a Node). */
static inline RtObject *
rti_object_track_new_alone(RtObject *op, bool collect)
{
    if (rt_unlikely(collect))
        return rti_gc_collect_then_track(op);
    RtGcHead *g = RTI_AS_GC(op);
    rti_assert(g->gc_next == 0 && g->gc_prev == 0 && !rti_heap_shared());
    rti_gc_list_append_new(g, &rti_runtime.gc.gen[0].head);
    return op;
}

static inline RtObject *
rti_object_track_new(RtObject *op, bool collect)
{
#if RT_RC_THREADED
    if (rti_heap_shared()) {
        rti_assert(!collect);   /* rti_object_alloc_gc: the shared count collects by itself */
        rti_gc_track_new_shared(RTI_AS_GC(op));
        return op;
    }
#endif
    return rti_object_track_new_alone(op, collect);
}

/* Memory a built-in type's objects own beside their block (list items,
 * dict tables), added to its row c (RTI_BUILTIN_COUNTERS): the calling
 * thread's own once threads share the runtime.  Inline, with the row a
 * constant: out of line it took the type's id and tested the mode apart
 * (biased dict_churn 9 instructions a step, two list resizes). */
static inline void
rti_row_extra_bytes(RtTypeCounters *c, int64_t delta)
{
#if RT_RC_THREADED
    if (rt_unlikely(rti_heap_shared()))
        c = rti_own_row(c);
#endif
    c->bytes += delta;
}

/* The end of a dealloc: uncount the object (row c, bytes as for
 * rti_object_alloc) and free its memory (block bytes).  A GC object must be
 * untracked already.  Always inline: the compiler dropped it out of
 * instance_dealloc once the threaded count's test grew by a load (biased
 * binary_trees 362 -> 379 instructions per Node). */
static RT_ALWAYS_INLINE void
rti_object_release(RtObject *op, RtTypeCounters *c, size_t block, int64_t bytes, bool gc)
{
#if RT_RC_THREADED
    bool shared = rti_mode() & RTI_MODE_SHARED;     /* rows and count: the thread heap's */
    if (rt_unlikely(shared))
        c = rti_own_row(c);
#endif
    c->freed++;
    c->bytes -= bytes;
    void *mem = op;
    if (gc) {
        RtGcHead *g = RTI_AS_GC(op);
        rti_assert(!rti_gc_tracked(g));
#if RT_RC_THREADED
        if (shared)
            rti_gc_count_shared(&rti_runtime.gc, -1);
        else
#endif
            rti_gc_on_free(&rti_runtime.gc);
        mem = g;
    }
    rti_object_block_free(mem, block);
}

#endif /* RT_INTERNAL_H */
