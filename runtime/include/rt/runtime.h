/* rt/runtime.h -- starting and stopping the runtime; options; errors.
 *
 * The runtime is one context (allocator heap, collector state, options,
 * statistics) owned by the thread that called rt_init().  That thread drives
 * the allocator and the collector.  In the atomic variant, other threads may
 * take and drop references to shared objects; an object whose last reference
 * is dropped on another thread is handed to the owner, which frees it at its
 * next collection or rt_drain_pending() (see object.c).
 *
 * Options come from the environment through one table (options.c):
 *   RT_MALLOC=pool|malloc|debug|mimalloc|jemalloc   allocator backend
 *   RT_GC_THRESHOLD=T0[,T1[,T2]]                     collector thresholds
 *   RT_GC=1|0                                        automatic collection
 *   RT_SHOW_STATS=1                                  statistics at rt_fini()
 *   RT_GC_TIMING=1|0                                 time every collection
 *   RT_FAIL_AFTER=N[+]                               fail the Nth allocation
 *                                                    (with +, every later one)
 *   RT_ARENA_DECAY_MS=MS                             keep free arenas this long
 * A bad value is reported on stderr and the default kept.
 */
#ifndef RT_RUNTIME_H
#define RT_RUNTIME_H

#include "rt/alloc.h"
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum RtError {
    RT_OK = 0,
    RT_ERR_NOMEM,       /* an allocation failed */
    RT_ERR_VALUE,       /* a bad argument value */
    RT_ERR_INDEX,       /* an index out of range */
    RT_ERR_KEY,         /* a missing dict key */
    RT_ERR_TYPE,        /* an object of the wrong type */
    RT_ERR_STATE,       /* a call at the wrong time (e.g. not initialized) */
} RtError;

typedef struct RtConfig {
    RtAllocKind alloc;
    long gc_threshold[3];
    bool gc_enabled;
    bool gc_timing;         /* time each collection (for pause statistics) */
    bool show_stats;
    uint64_t fail_after;    /* fault injection: 0 = off */
    bool fail_persistent;
    /* Pool allocator: keep a wholly free arena mapped this long for reuse
     * (0: release at once, keeping one, as obmalloc does). */
    int64_t arena_decay_ms;
    /* Threaded variants: collections of this generation and older share
     * their passes with the stopped threads (3: none). */
    int gc_parallel_min;
} RtConfig;

/* The built-in defaults (pool, 700/10/10, enabled, timing on, arena
 * decay RT_ARENA_DECAY_DEFAULT_MS, parallel passes from generation 1).
 * The decay, by measurement (list_append's ten rounds of 32 MiB of ints on
 * a slow shared 2-core VM: 78k minor faults at 0 ms, 70k at 1, 36k at 10,
 * 15k at 100, 12k at 1000 -- the first round's alone): the shortest decade
 * at which no workload refaults a dropped structure, still a tenth of
 * jemalloc's default dirty decay (10 s). */
#define RT_ARENA_DECAY_DEFAULT_MS 1000
/* Collections of generation 1 and older share their passes (threaded
 * variants): a young one takes tens of microseconds, about what handing a
 * pass to the other threads costs (gc_parallel.c). */
#define RT_GC_PARALLEL_DEFAULT 1
#define RT_ARENA_DECAY_MAX_MS 86400000   /* a day */
void rt_config_default(RtConfig *cfg);
/* Apply the RT_* environment variables to cfg; each bad value is reported
 * on warn (when not NULL) and leaves that field as it was.  Returns the
 * number of bad values. */
int rt_config_from_env(RtConfig *cfg, FILE *warn);

/* Parse "T0[,T1[,T2]]" (non-negative integers) into the first 1..3 entries
 * of threshold; returns how many were given, or -1 (nothing changed). */
int rt_parse_threshold(const char *text, long threshold[3]);
/* RT_GC_PARALLEL's values: the youngest generation collected in parallel
 * as it is spelt ("0", "1", "2"; "off" for 3 and any larger), and back --
 * "off", "false" or "no" in any case mean off; 0, or -1 (nothing changed). */
const char *rt_gc_parallel_name(int generation);
int rt_parse_gc_parallel(const char *text, int *generation);
/* Describe the RT_* environment variables, one per row pair. */
void rt_options_help(FILE *out);

/* Start the runtime with the defaults and the environment (rt_init), or
 * with an explicit configuration.  Return 0, or -1 with an error set (an
 * unavailable backend, or a runtime already running). */
int rt_init(void);
int rt_init_ex(const RtConfig *cfg);
/* Stop it: free the collector's lists and every arena; print statistics
 * when asked.  Objects still alive are leaked (and reported by the stats). */
void rt_fini(void);
bool rt_is_initialized(void);
const RtConfig *rt_config(void);

/* In the atomic variant: free the objects whose last reference was dropped
 * on another thread.  Returns how many.  A no-op elsewhere. */
size_t rt_drain_pending(void);

/* The last error, as errno but richer; cleared by rt_error_clear(). */
RtError rt_error(void);
const char *rt_error_message(void);
void rt_error_clear(void);
void rt_error_set(RtError err, const char *fmt, ...) RT_PRINTF(2, 3);
const char *rt_error_name(RtError err);

/* Live objects and bytes per type (the memory profile). */
typedef struct RtTypeStats {
    const char *name;
    uint64_t allocated;     /* objects ever allocated */
    uint64_t freed;
    int64_t live;
    int64_t live_peak;      /* at the allocator's sample points (rt/alloc.h,
                             * RtAllocStats.small), every thread's summed */
    int64_t bytes;          /* bytes of live objects, GC headers included */
    int64_t bytes_peak;
} RtTypeStats;
/* Fill up to max entries, one per type that ever had an object; returns the
 * number of such types. */
size_t rt_type_stats(RtTypeStats *out, size_t max);
/* Print allocator, type and collector statistics (what RT_SHOW_STATS does). */
void rt_print_stats(FILE *out);

#define RT_MAX_TYPES 64

#ifdef __cplusplus
}
#endif

#endif /* RT_RUNTIME_H */
