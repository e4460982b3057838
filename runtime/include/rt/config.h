/* rt/config.h -- compile-time configuration of the rtbench runtime core.
 *
 * The switches that change code generation are RT_RC_ATOMIC and
 * RT_RC_BIASED: the build compiles the whole runtime three times, with plain
 * reference counts (librt_nonatomic), with C11 atomic ones (librt_atomic)
 * and with biased ones (librt_biased, PEP 703), so that the refcount fast
 * path stays inline in each.  At most one of the two is 1.  Every
 * translation unit of one program must see the same values.
 *
 * RT_RC_THREADED is 1 in the two variants where several threads may touch
 * one object's count (atomic, biased).
 */
#ifndef RT_CONFIG_H
#define RT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#ifndef RT_RC_ATOMIC
#define RT_RC_ATOMIC 0
#endif

#ifndef RT_RC_BIASED
#define RT_RC_BIASED 0
#endif
#if RT_RC_ATOMIC && RT_RC_BIASED
#error "RT_RC_ATOMIC and RT_RC_BIASED exclude each other"
#endif
#define RT_RC_THREADED (RT_RC_ATOMIC || RT_RC_BIASED)

#if RT_RC_ATOMIC
#define RT_RC_VARIANT "atomic"
#elif RT_RC_BIASED
#define RT_RC_VARIANT "biased"
#else
#define RT_RC_VARIANT "nonatomic"
#endif

#if defined(__GNUC__) || defined(__clang__)
#define rt_likely(x)   __builtin_expect(!!(x), 1)
#define rt_unlikely(x) __builtin_expect(!!(x), 0)
#define RT_NOINLINE    __attribute__((noinline))
#define RT_ALWAYS_INLINE inline __attribute__((always_inline))
#define RT_COLD        __attribute__((cold, noinline))
#define RT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define rt_likely(x)   (x)
#define rt_unlikely(x) (x)
#define RT_NOINLINE
#define RT_ALWAYS_INLINE inline
#define RT_COLD
#define RT_PRINTF(f, a)
#endif

/* Sanitizer detection: clang spells it __has_feature, gcc defines macros. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define RT_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(RT_ASAN)
#define RT_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(RT_TSAN)
#define RT_TSAN 1
#endif
#ifndef RT_ASAN
#define RT_ASAN 0
#endif
#ifndef RT_TSAN
#define RT_TSAN 0
#endif

#endif /* RT_CONFIG_H */
