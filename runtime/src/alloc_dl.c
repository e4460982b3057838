/* alloc_dl.c -- the mimalloc and jemalloc backends, loaded at run time.
 *
 * Debian's libmimalloc.so.2 and libjemalloc.so.2 both export malloc and
 * free: linking either would replace glibc's allocator in the whole process,
 * and the 'malloc' backend would silently stop being glibc.  So neither is
 * linked: the build records each library's soname when it finds the package
 * (RT_MIMALLOC_SONAME, RT_JEMALLOC_SONAME), and the library is dlopen'ed with
 * RTLD_LOCAL on first use, which keeps its symbols out of the global scope,
 * and called through its own entry points (mi_malloc/mi_realloc/mi_free;
 * jemalloc's mallocx/rallocx/dallocx).
 *
 * jemalloc keeps its thread state in initial-exec TLS (2.6 KiB), which a
 * library loaded after start-up can only get from glibc's surplus of static
 * TLS (512 bytes by default): a process that wants the jemalloc backend must
 * start with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 (the
 * harness, the tests and the microbenchmarks set it; RT_DL_TLS_TUNABLE).
 *
 * Both libraries round small sizes to classes of which some are only 8-byte
 * aligned (8 and 24 bytes); requests are rounded up to a multiple of 16 so
 * that every backend keeps RT_ALIGNMENT, as the pool does.
 *
 * The handles are process-wide and never closed: an allocator must outlive
 * every block it handed out.
 */

#include "internal.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct DlBackend {
    const char *soname;         /* NULL: not found by the build */
    const char *sym_malloc, *sym_realloc, *sym_free;
    bool flags_api;             /* jemalloc's *allocx take a flags argument */
    void *(*malloc_fn)(size_t);
    void *(*realloc_fn)(void *, size_t);
    void (*free_fn)(void *);
    void *(*mallocx_fn)(size_t, int);
    void *(*rallocx_fn)(void *, size_t, int);
    void (*dallocx_fn)(void *, int);
    RtAllocator api;            /* rounding wrappers: what the runtime uses */
    RtAllocator direct;         /* the library's own malloc/realloc/free */
    bool loaded, failed;
    char why[200];              /* dlerror() of a failed load */
} DlBackend;

#ifndef RT_MIMALLOC_SONAME
#define RT_MIMALLOC_SONAME NULL
#endif
#ifndef RT_JEMALLOC_SONAME
#define RT_JEMALLOC_SONAME NULL
#endif

static DlBackend dl_mimalloc = {.soname = RT_MIMALLOC_SONAME, .sym_malloc = "mi_malloc",
                                .sym_realloc = "mi_realloc", .sym_free = "mi_free"};
static DlBackend dl_jemalloc = {.soname = RT_JEMALLOC_SONAME, .sym_malloc = "mallocx",
                                .sym_realloc = "rallocx", .sym_free = "dallocx", .flags_api = true};
static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;

/* Entry points: mimalloc's match malloc's signatures; jemalloc's take flags
 * (0: default alignment and arena, like malloc).  jemalloc's mallocx(0) is
 * undefined, so a zero request asks for one byte, as malloc(0) may. */
static inline size_t round16(size_t n) { return n ? (n + 15) & ~(size_t)15 : 16; }
static void *mi_malloc_entry(size_t n) { return dl_mimalloc.malloc_fn(round16(n)); }
static void *mi_realloc_entry(void *p, size_t n) { return dl_mimalloc.realloc_fn(p, round16(n)); }
static void mi_free_entry(void *p) { dl_mimalloc.free_fn(p); }
static void *je_malloc_entry(size_t n) { return dl_jemalloc.mallocx_fn(round16(n), 0); }
static void *
je_realloc_entry(void *p, size_t n)
{
    return p ? dl_jemalloc.rallocx_fn(p, round16(n), 0) : je_malloc_entry(n);
}
static void
je_free_entry(void *p)
{
    if (p != NULL)
        dl_jemalloc.dallocx_fn(p, 0);
}

static bool
load(DlBackend *b)
{
    if (b->soname == NULL) {
        snprintf(b->why, sizeof b->why, "the build did not find the library (install its Debian -dev package and rebuild)");
        return false;
    }
    void *h = dlopen(b->soname, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        const char *e = dlerror();
        bool tls = e != NULL && strstr(e, "static TLS") != NULL;
        snprintf(b->why, sizeof b->why, "%s%s", e ? e : b->soname,
                 tls ? " (start the process with GLIBC_TUNABLES=" RT_DL_TLS_TUNABLE ")" : "");
        return false;
    }
    void *m = dlsym(h, b->sym_malloc), *r = dlsym(h, b->sym_realloc), *f = dlsym(h, b->sym_free);
    if (m == NULL || r == NULL || f == NULL) {
        snprintf(b->why, sizeof b->why, "%s lacks %s/%s/%s", b->soname, b->sym_malloc, b->sym_realloc, b->sym_free);
        return false;   /* the handle stays open: harmless, and rare */
    }
    void *dm = dlsym(h, "malloc"), *dr = dlsym(h, "realloc"), *df = dlsym(h, "free");
    if (dm != NULL && dr != NULL && df != NULL) {
        b->direct.name = b->flags_api ? "jemalloc" : "mimalloc";
        *(void **)&b->direct.malloc = dm;
        *(void **)&b->direct.realloc = dr;
        *(void **)&b->direct.free = df;
    }
    if (b->flags_api) {
        *(void **)&b->mallocx_fn = m;
        *(void **)&b->rallocx_fn = r;
        *(void **)&b->dallocx_fn = f;
        b->api = (RtAllocator){"jemalloc", je_malloc_entry, je_realloc_entry, je_free_entry};
    } else {
        *(void **)&b->malloc_fn = m;
        *(void **)&b->realloc_fn = r;
        *(void **)&b->free_fn = f;
        b->api = (RtAllocator){"mimalloc", mi_malloc_entry, mi_realloc_entry, mi_free_entry};
    }
    return true;
}

static DlBackend *
backend_of(RtAllocKind kind)
{
    return kind == RT_ALLOC_MIMALLOC ? &dl_mimalloc : kind == RT_ALLOC_JEMALLOC ? &dl_jemalloc : NULL;
}

const char *
rti_dl_unavailable_reason(RtAllocKind kind)
{
    DlBackend *b = backend_of(kind);
    return b != NULL && b->failed ? b->why : NULL;
}

const RtAllocator *
rti_dl_allocator(RtAllocKind kind)
{
    DlBackend *b = backend_of(kind);
    if (b == NULL)
        return NULL;
    pthread_mutex_lock(&dl_lock);
    if (!b->loaded && !b->failed) {
        b->loaded = load(b);
        b->failed = !b->loaded;
    }
    bool ok = b->loaded;
    pthread_mutex_unlock(&dl_lock);
    return ok ? &b->api : NULL;
}

const RtAllocator *
rti_dl_allocator_direct(RtAllocKind kind)
{
    DlBackend *b = backend_of(kind);
    if (b == NULL || rti_dl_allocator(kind) == NULL || b->direct.malloc == NULL)
        return NULL;
    return &b->direct;
}

/* ==== start-up ========================================================== */

void
rt_dl_reexec_with_static_tls(char **argv)
{
    const char *t = getenv("GLIBC_TUNABLES");
    if ((t != NULL && strstr(t, "optional_static_tls") != NULL) || getenv("RTBENCH_REEXECED") != NULL)
        return;
    char value[1024];
    snprintf(value, sizeof value, "%s%s%s", t ? t : "", t && *t ? ":" : "", RT_DL_TLS_TUNABLE);
    setenv("GLIBC_TUNABLES", value, 1);
    setenv("RTBENCH_REEXECED", "1", 1);
    /* The resolved path, not /proc/self/exe, which under valgrind is the
     * tool's own binary. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        execv(exe, argv);
    }
}
