/* rt/rt.h -- the rtbench runtime core, all public headers in one.
 *
 *   rt/config.h    compile-time switches (refcount variant, sanitizers)
 *   rt/object.h    object header, type slots, reference counting
 *   rt/alloc.h     rt_malloc and its backends, statistics, fault injection
 *   rt/runtime.h   init/fini, options, errors, per-type statistics
 *   rt/types.h     int, str, tuple, list, dict, instance, weakref
 *   rt/gc.h        the cycle collector (Python's gc module API)
 */
#ifndef RT_RT_H
#define RT_RT_H

#include "rt/config.h"
#include "rt/object.h"
#include "rt/alloc.h"
#include "rt/runtime.h"
#include "rt/types.h"
#include "rt/gc.h"
#include "rt/thread.h"

#endif /* RT_RT_H */
