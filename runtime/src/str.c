/* str.c -- immutable byte strings.
 *
 * The bytes are stored inline after the header and NUL-terminated; the
 * terminator is part of basic_size, so an object of length n takes
 * basic_size + n bytes.  The hash (a word at a time, then a final mix:
 * rti_hash_bytes) is computed on first use and cached; 0 means "not
 * computed", so a hash that comes out 0 is stored as 1.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Eight bytes at a time: each word is mixed in with a multiply, and the
 * last 1..7 bytes are read as two overlapping pieces (4 + 4, or the first,
 * middle and last byte), which for a given length determine every byte;
 * the length seeds the state.  A final xorshift-multiply mix spreads the
 * bits down to the low ones the dict probes by.  A dict key of a few bytes
 * hashes in about 20 instructions (FNV-1a took 6 a byte). */
uint64_t
rti_hash_bytes(const char *data, size_t len)
{
    const uint64_t k = UINT64_C(0x9e3779b97f4a7c15);    /* 2^64 / golden ratio */
    uint64_t h = (uint64_t)len * k, w;
    for (; len > 8; data += 8, len -= 8) {
        memcpy(&w, data, 8);
        h = (h ^ w) * k;
        h ^= h >> 31;
    }
    if (len >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, data, 4);
        memcpy(&hi, data + len - 4, 4);
        w = lo | (uint64_t)hi << 32;
    } else if (len != 0) {
        w = (uint64_t)(unsigned char)data[0] | (uint64_t)(unsigned char)data[len / 2] << 8
            | (uint64_t)(unsigned char)data[len - 1] << 16;
    } else {
        w = 0;
    }
    h = (h ^ w) * k;
    h ^= h >> 32;
    h *= UINT64_C(0xd6e8feb86659fd93);
    h ^= h >> 32;
    return h ? h : 1;
}

#define STR_ROW RTI_BUILTIN_COUNTERS(RTI_TYPE_ID_STR)
#define STR_BLOCK(len) (offsetof(RtStrObject, data) + 1 + (size_t)(len))

static void
str_dealloc(RtObject *op)
{
    size_t block = STR_BLOCK(RT_SIZE(op));
    rti_object_release(op, STR_ROW, block, (int64_t)block, false);
}

static uint64_t str_hash(RtObject *op) { return rti_str_hash(op); }

static int
str_eq(RtObject *a, RtObject *b)
{
    size_t n = rt_str_len(a);
    return n == rt_str_len(b) && memcmp(rt_str_data(a), rt_str_data(b), n) == 0;
}

RtType rt_str_type = {
    .name = "str",
    .basic_size = offsetof(RtStrObject, data) + 1,
    .item_size = 1,
    .flags = RT_TYPE_HASHABLE,
    .dealloc = str_dealloc,
    .hash = str_hash,
    .eq = str_eq,
    .id = RTI_TYPE_ID_STR,
};

/* A string of len bytes, NUL-terminated, the bytes to fill. */
static inline RtStrObject *
new_str(size_t len)
{
    size_t block = STR_BLOCK(len);
    RtStrObject *s = (RtStrObject *)rti_object_alloc(&rt_str_type, STR_ROW, block, (int64_t)block, false);
    if (s == NULL)
        return NULL;
    RT_SIZE(s) = (intptr_t)len;
    s->hash = 0;
    s->data[len] = '\0';
    return s;
}

RtObject *
rt_str_from(const char *bytes, size_t len)
{
    if (len > (size_t)INTPTR_MAX) {
        rt_error_set(RT_ERR_VALUE, "string of %zu bytes is too long", len);
        return NULL;
    }
    RtStrObject *s = new_str(len);
    if (s == NULL)
        return NULL;
    memcpy(s->data, bytes, len);
    return (RtObject *)s;
}

RtObject *
rt_str_from_cstr(const char *s)
{
    return rt_str_from(s, strlen(s));
}

/* ==== integers without stdio =========================================== */

/* dict_churn builds a key per step with rt_str_printf("k%lld", j):
 * vsnprintf took 914 instructions of it.  A format that is literal text
 * around one integer conversion is formatted here instead, in a few dozen. */

/* Copy n <= 16 bytes without a call: GCC makes a call to memcpy of a copy
 * of variable length, which costs more than the bytes.  Two fixed-size
 * copies that overlap cover any length between their size and twice it. */
static inline void
copy_short(char *dst, const char *src, size_t n)
{
    rti_assert(n <= 16);
    if (n >= 8) {
        memcpy(dst, src, 8);
        memcpy(dst + n - 8, src + n - 8, 8);
    } else if (n >= 4) {
        memcpy(dst, src, 4);
        memcpy(dst + n - 4, src + n - 4, 4);
    } else if (n != 0) {
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

static inline void
copy_bytes(char *dst, const char *src, size_t n)
{
    for (; n > 16; dst += 16, src += 16, n -= 16)
        copy_short(dst, src, 16);
    copy_short(dst, src, n);
}

/* The decimal digits of u, written backwards to end at end, two at a time
 * from the table of the hundred pairs; returns where they start. */
static char *
format_digits(uint64_t u, char *end)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    char *p = end;
    while (u >= UINT32_MAX) {     /* 64-bit divisions only while they are needed */
        uint64_t q = u / 100;
        p -= 2;
        memcpy(p, pairs + 2 * (u - q * 100), 2);
        u = q;
    }
    uint32_t w = (uint32_t)u;
    while (w >= 100) {
        uint32_t q = w / 100;
        p -= 2;
        memcpy(p, pairs + 2 * (w - q * 100), 2);
        w = q;
    }
    if (w >= 10) {
        p -= 2;
        memcpy(p, pairs + 2 * w, 2);
    } else {
        *--p = (char)('0' + w);
    }
    return p;
}

/* The number of decimal digits of u (1 for 0): log10 from the bit length
 * (1233 / 4096 ~ log10(2)), then one compare. */
static inline size_t
count_digits(uint64_t u)
{
    static const uint64_t pow10[20] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
        1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
        100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
        1000000000000000000ULL, 10000000000000000000ULL,
    };
    u |= 1;     /* never crosses a power of ten; 0 has one digit */
    unsigned t = ((64u - (unsigned)__builtin_clzll(u)) * 1233u) >> 12;
    return t + 1 - (u < pow10[t]);
}

/* prefix, the decimal text of v, suffix: a new string, formatted in place. */
static RtObject *
str_with_int(const char *prefix, size_t nprefix, int64_t v, const char *suffix, size_t nsuffix)
{
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t ntext = count_digits(u) + (v < 0);
    RtStrObject *s = new_str(nprefix + ntext + nsuffix);
    if (s == NULL)
        return NULL;
    char *text = s->data + nprefix;
    copy_bytes(s->data, prefix, nprefix);
    char *start = format_digits(u, text + ntext);
    if (v < 0)
        start[-1] = '-';
    copy_bytes(text + ntext, suffix, nsuffix);
    return (RtObject *)s;
}

RtObject *
rt_str_from_int(const char *prefix, int64_t value)
{
    size_t nprefix = 0;
    while (prefix[nprefix] != '\0')     /* a few bytes: no call to strlen */
        nprefix++;
    return str_with_int(prefix, nprefix, value, "", 0);
}

/* The one shape rt_str_printf formats itself: literal text, one of %d %i
 * %ld %li %lld %lli, literal text, no other '%'. */
typedef struct IntFormat {
    size_t nprefix;         /* text before the '%' */
    int longs;              /* 'l's: the argument is an int, long, long long */
    const char *suffix;     /* text after the conversion */
    size_t nsuffix;
} IntFormat;

static bool
parse_int_format(const char *fmt, IntFormat *f)
{
    const char *c = fmt;
    while (*c != '%') {
        if (*c++ == '\0')
            return false;
    }
    f->nprefix = (size_t)(c - fmt);
    c++;
    f->longs = 0;
    while (*c == 'l' && f->longs < 2) {
        c++;
        f->longs++;
    }
    if (*c != 'd' && *c != 'i')
        return false;
    f->suffix = ++c;
    while (*c != '\0') {
        if (*c++ == '%')
            return false;
    }
    f->nsuffix = (size_t)(c - f->suffix);
    return true;
}

RtObject *
rt_str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    IntFormat f;
    if (parse_int_format(fmt, &f)) {
        int64_t v = f.longs == 0 ? va_arg(ap, int) : f.longs == 1 ? va_arg(ap, long) : va_arg(ap, long long);
        va_end(ap);
        return str_with_int(fmt, f.nprefix, v, f.suffix, f.nsuffix);
    }
    char small[128];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        rt_error_set(RT_ERR_VALUE, "bad format '%s'", fmt);
        return NULL;
    }
    if ((size_t)n < sizeof small)
        return rt_str_from(small, (size_t)n);
    RtStrObject *s = new_str((size_t)n);
    if (s == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s->data, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return (RtObject *)s;
}
