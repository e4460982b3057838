/* str.c -- immutable byte strings.
 *
 * The bytes are stored inline after the header and NUL-terminated; the
 * terminator is part of basic_size, so an object of length n takes
 * basic_size + n bytes.  The hash (FNV-1a, then a final mix) is computed on
 * first use and cached; 0 means "not computed", so a hash that comes out 0
 * is stored as 1.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

uint64_t
rti_hash_bytes(const char *data, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)data[i];
        h *= UINT64_C(0x100000001b3);
    }
    h ^= h >> 32;   /* FNV's low bits are weak; the dict probes by them */
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
    STR_ROW->bytes -= (int64_t)block;
    rti_object_release(op, STR_ROW, block, false);
}

static uint64_t
str_hash(RtObject *op)
{
    RtStrObject *s = (RtStrObject *)op;
    if (s->hash == 0)
        s->hash = rti_hash_bytes(s->data, rt_str_len(op));
    return s->hash;
}

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
static RtStrObject *
new_str(size_t len)
{
    RtStrObject *s = (RtStrObject *)rti_object_alloc(&rt_str_type, STR_ROW, STR_BLOCK(len), false);
    if (s == NULL)
        return NULL;
    STR_ROW->bytes += (int64_t)STR_BLOCK(len);
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

RtObject *
rt_str_printf(const char *fmt, ...)
{
    char small[128];
    va_list ap;
    va_start(ap, fmt);
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
