/* fuzz_alloc.c -- libFuzzer target: programs of allocator operations.
 *
 * The input is a program.  Its first byte picks the backend among those
 * available (pool, malloc, debug, mimalloc, and jemalloc when the process
 * started with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384); the
 * rest is a sequence of operations on NSLOTS block slots (single
 * operations reach the first 256, spray and sweep all of them):
 *
 *   alloc slot size     realloc slot size    calloc slot count size
 *   free slot           trim                 validate
 *   fault nth persist   fault off            calloc overflow
 *   spray start count size (allocate a run)  sweep start count stride (free)
 *
 * Each operation is an opcode (modulo 10), a slot byte, and its arguments
 * (make_corpus.py writes the format).  Spray and sweep hold thousands of
 * small blocks, enough for many arenas, so that the arena list's ordering,
 * its nfp2lasta index and the release of free arenas are exercised too.
 *
 * Sizes cover 0..512 (every pool size class and its boundaries), 513..64K
 * and, rarely, up to about 1 MiB (the debug backend: 4 KiB at most).
 * Requests that would hold more than LIVE_BYTES_MAX are skipped, to stay
 * within the fuzzer's memory limit.  A shadow heap keeps, per slot, the
 * block, its size and a cookie; every block is filled with its cookie's
 * pattern and checked in full before it is freed or reallocated, so a
 * block handed out twice, overlapping another, or overwritten by the
 * allocator's bookkeeping shows up.  The shadow also predicts fault
 * injection exactly (which allocation fails), and the live block count;
 * the pool's invariants are validated every VALIDATE_EVERY operations.
 *
 * Each input starts and stops its own runtime, so inputs are independent.
 * A failed check prints what failed and aborts: libFuzzer keeps the input.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSLOTS 4096
#define VALIDATE_EVERY 16
#define LIVE_BYTES_MAX ((size_t)256 << 20)  /* requests beyond it are skipped */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ==== input ============================================================= */

typedef struct Reader {
    const uint8_t *data;
    size_t size, pos;
} Reader;

static bool more(const Reader *r) { return r->pos < r->size; }
static uint8_t u8(Reader *r) { return r->pos < r->size ? r->data[r->pos++] : 0; }
static uint16_t
u16(Reader *r)
{
    uint8_t low = u8(r);
    return (uint16_t)(low | (unsigned)u8(r) << 8);
}

/* A request size: mostly small (0..512, so that every class boundary is
 * one byte away), some medium (513..64K), rarely large (64K..~1 MiB).  The
 * debug backend checks every byte of every freed block, byte by byte, when
 * it leaves the quarantine: it gets sizes up to DEBUG_SIZE_MAX only, or it
 * would spend its time there. */
#define DEBUG_SIZE_MAX 4096
static size_t
read_size(Reader *r, RtAllocKind backend)
{
    uint8_t mode = u8(r);
    uint16_t v = u16(r);
    size_t size = RT_SMALL_REQUEST_THRESHOLD + 1 + v % (65536 - RT_SMALL_REQUEST_THRESHOLD);
    if (mode < 192)
        size = v % (RT_SMALL_REQUEST_THRESHOLD + 1);
    else if (mode >= 252)
        size = 65537 + (size_t)v * 16;
    return backend == RT_ALLOC_DEBUG ? size % (DEBUG_SIZE_MAX + 1) : size;
}

/* ==== failures ========================================================== */

static _Noreturn RT_PRINTF(1, 2) void
fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz_alloc (%s): ", rt_alloc_name(rt_alloc_current()));
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* ==== the shadow heap =================================================== */

typedef struct Block {
    uint8_t *p;             /* NULL: the slot is empty */
    size_t size;            /* bytes requested */
    uint32_t cookie;        /* the fill pattern's seed */
    bool small;             /* pool backend: in a pool (the arena map says) */
} Block;

/* What the runtime's fault switch must do, replayed (alloc.c's rule: the
 * nth allocation from arming fails; with persistent, every later one). */
typedef struct FaultModel {
    uint64_t countdown;
    bool persistent, firing;
    uint64_t fired;
} FaultModel;

typedef struct Shadow {
    RtAllocKind backend;
    Block slot[NSLOTS];
    int64_t live;           /* blocks the program holds */
    int64_t small;          /* of which pool blocks (pool backend) */
    size_t bytes;           /* bytes they hold */
    uint32_t serial;        /* next cookie */
    FaultModel fault;
} Shadow;

/* The fill pattern: byte i of a block with cookie c is
 * noise[(c * 97 + i) % PATTERN_PERIOD], pseudo-random bytes, so that a
 * block moved, shifted or mixed with another (of the last 4096 made) does
 * not match.  The table is
 * stored twice over, so that any PATTERN_PERIOD bytes of the pattern are
 * one contiguous run: fill and check go by memcpy and memcmp. */
#define PATTERN_PERIOD 4096
static uint8_t noise[2 * PATTERN_PERIOD];

static void
init_noise(void)
{
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < PATTERN_PERIOD; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        noise[i] = noise[i + PATTERN_PERIOD] = (uint8_t)x;
    }
}

static const uint8_t *
pattern_at(uint32_t cookie, size_t i)
{
    return &noise[((size_t)cookie * 97 + i) % PATTERN_PERIOD];
}

static void
fill(Block *b)
{
    for (size_t i = 0; i < b->size; i += PATTERN_PERIOD) {
        size_t n = b->size - i < PATTERN_PERIOD ? b->size - i : PATTERN_PERIOD;
        memcpy(b->p + i, pattern_at(b->cookie, i), n);
    }
}

/* Guarantees no byte of the first n changed since the block was filled. */
static void
check_contents(const Block *b, size_t n, int slot, const char *when)
{
    if (n > b->size)
        n = b->size;
    for (size_t i = 0; i < n; i += PATTERN_PERIOD) {
        size_t len = n - i < PATTERN_PERIOD ? n - i : PATTERN_PERIOD;
        const uint8_t *want = pattern_at(b->cookie, i);
        if (memcmp(b->p + i, want, len) == 0)
            continue;
        size_t j = 0;
        while (b->p[i + j] == want[j])
            j++;
        fail("slot %d (%p, %zu bytes): byte %zu changed %s", slot, (void *)b->p, b->size, i + j, when);
    }
}

/* Whether the next allocating call must fail, advancing the model. */
static bool
fault_step(FaultModel *f)
{
    if (f->firing) {
        f->fired++;
        return true;
    }
    if (f->countdown == 0 || --f->countdown != 0)
        return false;
    f->fired++;
    f->firing = f->persistent;
    return true;
}

/* Where the pool backend must serve a request: 1 in a pool, 0 from
 * malloc, -1 either (a zero-byte request is one byte on the slow path). */
static int pool_small(size_t size) { return size == 0 ? -1 : size <= RT_SMALL_REQUEST_THRESHOLD; }

/* The pool backend's realloc (pool.c): a large block stays with malloc's
 * realloc; a pool block stays in a pool, or moves to one, unless the new
 * size is large; no block (NULL) is a plain allocation. */
static int
pool_small_after_realloc(const Block *b, size_t size)
{
    if (b->p == NULL)
        return pool_small(size);
    return b->small && pool_small(size ? size : 1) == 1;
}

/* An allocating call returned p: it must fail exactly when the fault model
 * says so, with RT_ERR_NOMEM, and succeed with 16-byte alignment else. */
static bool
check_result(void *p, bool must_fail, const char *what, size_t size)
{
    if (must_fail) {
        if (p != NULL)
            fail("%s(%zu) succeeded while fault injection should fail it", what, size);
        if (rt_error() != RT_ERR_NOMEM)
            fail("%s(%zu) failed with error %s, not NOMEM", what, size, rt_error_name(rt_error()));
        rt_error_clear();
        return false;
    }
    if (p == NULL)
        fail("%s(%zu) failed (%s) with no fault armed", what, size, rt_error_message());
    if ((uintptr_t)p % RT_ALIGNMENT != 0)
        fail("%s(%zu) returned %p, not %d-byte aligned", what, size, p, RT_ALIGNMENT);
    return true;
}

/* Guarantees the pool backend served the block where its rules say (the
 * arena map tells pool blocks from malloc's). */
static void
set_block(Shadow *sh, Block *b, void *p, size_t size, int expect_small)
{
    bool small = sh->backend == RT_ALLOC_POOL && rti_pool_block_size(&rti_runtime.heap.pool, p) != 0;
    if (sh->backend == RT_ALLOC_POOL && expect_small >= 0 && small != expect_small)
        fail("a block of %zu bytes was served by %s", size, small ? "a pool" : "malloc");
    if (b->p == NULL)
        sh->live++;
    if (b->p != NULL && b->small)
        sh->small--;
    sh->bytes += size - b->size;
    b->p = p;
    b->size = size;
    b->small = small;
    b->cookie = sh->serial++;
    sh->small += small;
    fill(b);
}

static void
op_free(Shadow *sh, int k)
{
    Block *b = &sh->slot[k];
    if (b->p == NULL)
        return;
    check_contents(b, b->size, k, "before free");
    rt_free(b->p);
    sh->live--;
    sh->small -= b->small;
    sh->bytes -= b->size;
    *b = (Block){0};
}

static void
op_alloc(Shadow *sh, int k, size_t size)
{
    op_free(sh, k);
    if (sh->bytes + size > LIVE_BYTES_MAX)
        return;
    bool must_fail = fault_step(&sh->fault);
    void *p = rt_malloc(size);
    if (check_result(p, must_fail, "rt_malloc", size))
        set_block(sh, &sh->slot[k], p, size, pool_small(size));
}

/* The offset of the first byte of p[0..n) that is not zero (n if none). */
static size_t
first_nonzero(const uint8_t *p, size_t n)
{
    static const uint8_t zeros[PATTERN_PERIOD];
    for (size_t i = 0; i < n; i += PATTERN_PERIOD) {
        size_t len = n - i < PATTERN_PERIOD ? n - i : PATTERN_PERIOD;
        if (memcmp(p + i, zeros, len) == 0)
            continue;
        while (p[i] == 0)
            i++;
        return i;
    }
    return n;
}

/* count * size may overflow on purpose (huge count): then calloc must fail
 * with NOMEM before it allocates, so the fault model does not advance. */
static void
op_calloc(Shadow *sh, int k, size_t count, size_t size)
{
    op_free(sh, k);
    bool overflow = size != 0 && count > SIZE_MAX / size;
    if (!overflow && sh->bytes + count * size > LIVE_BYTES_MAX)
        return;
    bool must_fail = overflow || fault_step(&sh->fault);
    uint8_t *p = rt_calloc(count, size);
    if (!check_result(p, must_fail, "rt_calloc", count * size))
        return;
    size_t nonzero = first_nonzero(p, count * size);
    if (nonzero < count * size)
        fail("rt_calloc(%zu, %zu): byte %zu is %#x, not zero", count, size, nonzero, p[nonzero]);
    set_block(sh, &sh->slot[k], p, count * size, pool_small(count * size));
}

/* A failed realloc must leave the old block as it was; a successful one
 * must keep the common prefix. */
static void
op_realloc(Shadow *sh, int k, size_t size)
{
    Block *b = &sh->slot[k];
    if (sh->bytes - b->size + size > LIVE_BYTES_MAX)
        return;
    check_contents(b, b->size, k, "before realloc");
    int small = pool_small_after_realloc(b, size);
    bool must_fail = fault_step(&sh->fault);
    uint8_t *p = rt_realloc(b->p, size);
    if (!check_result(p, must_fail, "rt_realloc", size)) {
        check_contents(b, b->size, k, "after a failed realloc");
        return;
    }
    Block moved = *b;
    moved.p = p;
    check_contents(&moved, size < b->size ? size : b->size, k, "by realloc (prefix)");
    set_block(sh, b, p, size, small);
}

static void
op_fault(Shadow *sh, uint64_t nth, bool persistent)
{
    rt_fault_inject(nth, persistent);
    sh->fault = (FaultModel){nth, persistent, false, 0};
}

/* ==== consistency ======================================================= */

/* Guarantees the allocator counts exactly the blocks the program holds
 * (the pool backend: small and large separately), that the cheap and the
 * walking statistics agree, that the fault switch agrees with the model,
 * and that non-pool backends never touch the pools. */
static void
check_stats(const Shadow *sh)
{
    RtAllocStats st, counts;
    rt_alloc_stats(&st);
    rt_alloc_stats_counts(&counts);
    if (st.blocks.current != sh->live)
        fail("statistics count %lld live blocks, the shadow %lld", (long long)st.blocks.current, (long long)sh->live);
    if (counts.blocks.current != st.blocks.current || counts.small.current != st.small.current
        || counts.large.current != st.large.current || counts.pools.current != st.pools.current
        || counts.arenas.current != st.arenas.current)
        fail("rt_alloc_stats and rt_alloc_stats_counts disagree");
    if (st.faults_injected != sh->fault.fired || rt_fault_fired() != sh->fault.fired)
        fail("%llu faults injected, the model says %llu", (unsigned long long)rt_fault_fired(),
             (unsigned long long)sh->fault.fired);
    if (rt_fault_countdown() != sh->fault.countdown)
        fail("fault countdown %llu, the model says %llu", (unsigned long long)rt_fault_countdown(),
             (unsigned long long)sh->fault.countdown);
    if (sh->backend == RT_ALLOC_POOL && (st.small.current != sh->small || st.large.current != sh->live - sh->small))
        fail("pool: %lld small + %lld large blocks, the shadow %lld + %lld", (long long)st.small.current,
             (long long)st.large.current, (long long)sh->small, (long long)(sh->live - sh->small));
    if (sh->backend != RT_ALLOC_POOL && sh->backend != RT_ALLOC_DEBUG
        && (st.small.allocated != 0 || st.large.allocated != 0 || st.arenas.allocated != 0))
        fail("backend %s used the pools", rt_alloc_name(sh->backend));
    uint64_t class_blocks = 0;
    for (int i = 0; i < RT_NB_SMALL_SIZE_CLASSES; i++)
        class_blocks += st.classes[i].blocks;
    if ((int64_t)class_blocks != st.small.current)
        fail("size classes hold %llu blocks, small.current is %lld", (unsigned long long)class_blocks,
             (long long)st.small.current);
}

/* Guarantees every invariant of the pool allocator (pool.c's validator). */
static void
validate(void)
{
    char err[256];
    if (rti_pools_validate(&rti_runtime.heap.arenas, err, sizeof err) != 0)
        fail("pool invariant broken: %s", err);
}

/* ==== the program ======================================================= */

enum { OP_ALLOC, OP_FREE, OP_REALLOC, OP_CALLOC, OP_TRIM, OP_FAULT, OP_FAULT_OFF, OP_VALIDATE, OP_SPRAY, OP_SWEEP,
       OP_COUNT };

/* Allocate count small blocks of one size from slot start on. */
static void
op_spray(Shadow *sh, int start, int count, size_t size)
{
    for (int j = 0; j < count; j++)
        op_alloc(sh, (start + j) % NSLOTS, size);
}

/* Free every stride-th slot of count from slot start on: pools and arenas
 * are left partly used. */
static void
op_sweep(Shadow *sh, int start, int count, int stride)
{
    for (int j = 0; j < count; j += stride)
        op_free(sh, (start + j) % NSLOTS);
}

static void
run_op(Shadow *sh, Reader *r)
{
    uint8_t op = u8(r) % OP_COUNT;
    int k = u8(r);
    switch (op) {
    case OP_ALLOC: op_alloc(sh, k, read_size(r, sh->backend)); break;
    case OP_FREE: op_free(sh, k); break;
    case OP_REALLOC: op_realloc(sh, k, read_size(r, sh->backend)); break;
    case OP_CALLOC: {
        uint8_t c = u8(r);
        size_t size = read_size(r, sh->backend);
        if (c == 255)   /* an overflowing product */
            op_calloc(sh, k, SIZE_MAX / 2 + 1, 2 + size);
        else
            op_calloc(sh, k, c % 17, size);
        break;
    }
    case OP_TRIM: rt_alloc_trim(); break;
    case OP_FAULT: op_fault(sh, 1 + (uint64_t)(k % 8), (k & 8) != 0); break;
    case OP_FAULT_OFF: op_fault(sh, 0, false); break;
    case OP_SPRAY: {
        int count = (u8(r) + 1) * 8;
        op_spray(sh, k * 16, count, read_size(r, sh->backend) % (RT_SMALL_REQUEST_THRESHOLD + 1));
        break;
    }
    case OP_SWEEP: {
        int count = (u8(r) + 1) * 8;
        op_sweep(sh, k * 16, count, 1 + u8(r) % 8);
        break;
    }
    default: validate(); break;
    }
}

/* Free everything and trim: no block may be left, and the pool backends
 * must have returned every pool and arena. */
static void
finish(Shadow *sh)
{
    op_fault(sh, 0, false);
    for (int k = 0; k < NSLOTS; k++)
        op_free(sh, k);
    check_stats(sh);
    validate();
    rt_alloc_trim();
    RtAllocStats st;
    rt_alloc_stats(&st);
    if (st.blocks.current != 0 || st.small.current != 0 || st.large.current != 0)
        fail("after freeing everything and trim: %lld blocks (%lld small, %lld large) left",
             (long long)st.blocks.current, (long long)st.small.current, (long long)st.large.current);
    if (st.pools.current != 0 || st.arenas.current != 0)
        fail("after trim: %lld pools and %lld arenas still held", (long long)st.pools.current,
             (long long)st.arenas.current);
    validate();
}

/* The backends this process can run (found once, at start-up). */
static RtAllocKind backends[RT_ALLOC_KIND_COUNT];
static int nbackends;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    init_noise();
    fprintf(stderr, "fuzz_alloc: backends:");
    for (int k = 0; k < RT_ALLOC_KIND_COUNT; k++) {
        if (rt_alloc_available((RtAllocKind)k)) {
            backends[nbackends++] = (RtAllocKind)k;
            fprintf(stderr, " %s", rt_alloc_name((RtAllocKind)k));
        } else {
            fprintf(stderr, " (%s: %s)", rt_alloc_name((RtAllocKind)k), rt_alloc_unavailable_reason((RtAllocKind)k));
        }
    }
    fputc('\n', stderr);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Reader r = {data, size, 0};
    static Shadow sh;
    memset(&sh, 0, sizeof sh);
    sh.backend = backends[u8(&r) % nbackends];
    RtConfig cfg;
    rt_config_default(&cfg);
    cfg.alloc = sh.backend;
    if (rt_init_ex(&cfg) != 0)
        fail("rt_init_ex: %s", rt_error_message());
    for (unsigned n = 1; more(&r); n++) {
        run_op(&sh, &r);
        check_stats(&sh);
        if (n % VALIDATE_EVERY == 0)
            validate();
    }
    finish(&sh);
    rt_fini();
    return 0;
}
