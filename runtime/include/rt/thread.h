/* rt/thread.h -- threads that use the runtime.
 *
 * In the threaded variants (atomic, biased) a thread other than the one
 * that called rt_init() attaches before it uses the runtime and detaches
 * before it exits; rt_init() and rt_fini() do this for their thread.  In
 * the biased variant, an attached thread owns the objects it makes (their
 * counts are biased towards it) and merges the objects other threads hand
 * back to it when it calls rt_thread_safepoint() or rt_drain_pending().
 *
 * In the nonatomic variant there is one thread, and these calls do nothing.
 */
#ifndef RT_THREAD_H
#define RT_THREAD_H

#include "rt/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Attach the calling thread.  0, or -1 with RT_ERR_STATE (no runtime, or
 * the thread is attached already) or RT_ERR_NOMEM. */
int rt_thread_attach(void);
/* Detach it: merge what was handed back to it, and leave the registry.
 * Objects it still owns stay valid; their owner is gone, so other threads
 * merge them when they drop references.  A no-op if not attached. */
void rt_thread_detach(void);
bool rt_thread_is_attached(void);
/* The number of attached threads. */
size_t rt_thread_count(void);
/* A safepoint: merge the objects handed back to this thread. */
void rt_thread_safepoint(void);

#ifdef __cplusplus
}
#endif

#endif /* RT_THREAD_H */
