/* debug.h -- the runtime's invariant checks, in levels (mimalloc's MI_DEBUG).
 *
 *   RT_DEBUG=0  release: every check compiles to nothing (the fast paths'
 *               instruction counts must not move; scripts/callgrind-lifo)
 *   RT_DEBUG=1  cheap checks on every fast path: O(1) each -- a size class
 *               or free cache index in bounds, a mortal's count never negative,
 *               the right container type in rt_list_* / rt_dict_*
 *   RT_DEBUG=2  full validation as well: O(n) walks -- each generation's
 *               list and flags around every collector pass (validate_list),
 *               the pool's totals after every arena change, the dict's
 *               usable + nentries identity after every resize
 *
 * The build sets RT_DEBUG (CMake cache variable RT_DEBUG; the debug, asan
 * and fuzz presets use 2, release 0).  A failed check prints the expression,
 * where it is, and an explanation when the check has one, then aborts:
 *
 *     rti_assert(count >= 0);
 *     rti_assert_msg(gc_refs != 0, "an object's count is lower than the references "
 *                    "other objects hold to it: a missing incref");
 *     rti_assert_expensive(rti_pools_validate(&heap->arenas) == 0);
 *
 * The expression of a check must have no side effect the program relies on:
 * release builds do not evaluate it.
 */
#ifndef RT_DEBUG_H
#define RT_DEBUG_H

#include "rt/config.h"

#ifndef RT_DEBUG
#define RT_DEBUG 0
#endif

/* Report a failed check and abort (runtime.c). */
RT_COLD void rti_assert_fail(const char *expr, const char *why, const char *file, int line, const char *func)
    __attribute__((noreturn));

#define RTI_CHECK_(e, why) \
    (rt_likely(e) ? (void)0 : rti_assert_fail(#e, (why), __FILE__, __LINE__, __func__))

#if RT_DEBUG >= 1
#define rti_assert(e) RTI_CHECK_(e, NULL)
#define rti_assert_msg(e, why) RTI_CHECK_(e, why)
#else
#define rti_assert(e) ((void)0)
#define rti_assert_msg(e, why) ((void)0)
#endif

#if RT_DEBUG >= 2
#define rti_assert_expensive(e) RTI_CHECK_(e, NULL)
#define rti_assert_expensive_msg(e, why) RTI_CHECK_(e, why)
#else
#define rti_assert_expensive(e) ((void)0)
#define rti_assert_expensive_msg(e, why) ((void)0)
#endif

#endif /* RT_DEBUG_H */
