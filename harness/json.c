/* json.c -- parse, build and write JSON (RFC 8259).
 *
 * The parser is a recursive descent over the text with a depth limit, so a
 * hostile or corrupt file cannot overflow the stack; every error reports
 * line and column.  Objects keep members in insertion order in an array
 * (lookups are linear: result objects have tens of keys, not thousands).
 */
#define _GNU_SOURCE
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 200

struct Rtj {
    RtjType type;
    bool is_int;
    bool b;
    int64_t i;
    double d;
    char *s;            /* string value */
    Rtj **items;        /* array items or object values */
    char **keys;        /* object keys */
    size_t n, cap;
};

static void *
xalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (p == NULL) {
        fputs("rtbench: out of memory\n", stderr);
        abort();
    }
    return p;
}

static char *
xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = xalloc(n);
    memcpy(d, s, n);
    return d;
}

static Rtj *
new_value(RtjType t)
{
    Rtj *v = xalloc(sizeof *v);
    v->type = t;
    return v;
}

void
rtj_free(Rtj *v)
{
    if (v == NULL)
        return;
    for (size_t k = 0; k < v->n; k++) {
        rtj_free(v->items[k]);
        if (v->keys != NULL)
            free(v->keys[k]);
    }
    free(v->items);
    free(v->keys);
    free(v->s);
    free(v);
}

/* ==== building ========================================================== */

Rtj *rtj_object(void) { return new_value(RTJ_OBJECT); }
Rtj *rtj_array(void) { return new_value(RTJ_ARRAY); }
Rtj *rtj_null(void) { return new_value(RTJ_NULL); }

Rtj *
rtj_string(const char *s)
{
    Rtj *v = new_value(RTJ_STRING);
    v->s = xstrdup(s ? s : "");
    return v;
}

Rtj *
rtj_stringf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (s == NULL)
        return rtj_string("");
    Rtj *v = new_value(RTJ_STRING);
    v->s = s;
    return v;
}

Rtj *
rtj_number(double d)
{
    Rtj *v = new_value(RTJ_NUMBER);
    v->d = d;
    if (isfinite(d) && d == floor(d) && fabs(d) < 9007199254740992.0) {
        v->is_int = true;
        v->i = (int64_t)d;
    }
    return v;
}

Rtj *
rtj_integer(int64_t i)
{
    Rtj *v = new_value(RTJ_NUMBER);
    v->is_int = true;
    v->i = i;
    v->d = (double)i;
    return v;
}

Rtj *
rtj_boolean(bool b)
{
    Rtj *v = new_value(RTJ_BOOL);
    v->b = b;
    return v;
}

static void
grow(Rtj *v)
{
    if (v->n < v->cap)
        return;
    size_t cap = v->cap ? v->cap * 2 : 4;
    Rtj **items = realloc(v->items, cap * sizeof *items);
    char **keys = v->type == RTJ_OBJECT ? realloc(v->keys, cap * sizeof *keys) : NULL;
    if (items == NULL || (v->type == RTJ_OBJECT && keys == NULL)) {
        fputs("rtbench: out of memory\n", stderr);
        abort();
    }
    v->items = items;
    if (v->type == RTJ_OBJECT)
        v->keys = keys;
    v->cap = cap;
}

static ptrdiff_t
find_key(const Rtj *obj, const char *key)
{
    if (obj == NULL || obj->type != RTJ_OBJECT)
        return -1;
    for (size_t k = 0; k < obj->n; k++)
        if (strcmp(obj->keys[k], key) == 0)
            return (ptrdiff_t)k;
    return -1;
}

Rtj *
rtj_set(Rtj *obj, const char *key, Rtj *value)
{
    ptrdiff_t k = find_key(obj, key);
    if (k >= 0) {
        rtj_free(obj->items[k]);
        obj->items[k] = value;
        return value;
    }
    grow(obj);
    obj->keys[obj->n] = xstrdup(key);
    obj->items[obj->n++] = value;
    return value;
}

Rtj *
rtj_append(Rtj *arr, Rtj *value)
{
    grow(arr);
    arr->items[arr->n++] = value;
    return value;
}

Rtj *
rtj_take(Rtj *obj, const char *key)
{
    ptrdiff_t k = find_key(obj, key);
    if (k < 0)
        return NULL;
    Rtj *v = obj->items[k];
    free(obj->keys[k]);
    memmove(&obj->items[k], &obj->items[k + 1], (obj->n - (size_t)k - 1) * sizeof obj->items[0]);
    memmove(&obj->keys[k], &obj->keys[k + 1], (obj->n - (size_t)k - 1) * sizeof obj->keys[0]);
    obj->n--;
    return v;
}

void
rtj_set_number(Rtj *v, double d)
{
    if (!rtj_is(v, RTJ_NUMBER))
        return;
    Rtj *fresh = rtj_number(d);
    v->d = fresh->d;
    v->i = fresh->i;
    v->is_int = fresh->is_int;
    rtj_free(fresh);
}

Rtj *
rtj_copy(const Rtj *v)
{
    if (v == NULL)
        return NULL;
    Rtj *c = new_value(v->type);
    c->is_int = v->is_int;
    c->b = v->b;
    c->i = v->i;
    c->d = v->d;
    c->s = v->s ? xstrdup(v->s) : NULL;
    for (size_t k = 0; k < v->n; k++) {
        if (v->type == RTJ_OBJECT)
            rtj_set(c, v->keys[k], rtj_copy(v->items[k]));
        else
            rtj_append(c, rtj_copy(v->items[k]));
    }
    return c;
}

/* ==== reading =========================================================== */

RtjType rtj_type(const Rtj *v) { return v ? v->type : RTJ_NULL; }
bool rtj_is(const Rtj *v, RtjType t) { return v != NULL && v->type == t; }

Rtj *
rtj_get(const Rtj *obj, const char *key)
{
    ptrdiff_t k = find_key(obj, key);
    return k < 0 ? NULL : obj->items[k];
}

Rtj *
rtj_path(const Rtj *v, const char *dotted)
{
    char part[128];
    const char *p = dotted;
    while (v != NULL && *p) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof part)
            return NULL;
        memcpy(part, p, n);
        part[n] = '\0';
        v = rtj_get(v, part);
        p += n + (p[n] == '.');
    }
    return (Rtj *)v;
}

size_t rtj_len(const Rtj *v) { return v && (v->type == RTJ_ARRAY || v->type == RTJ_OBJECT) ? v->n : 0; }
Rtj *rtj_at(const Rtj *v, size_t i) { return i < rtj_len(v) ? v->items[i] : NULL; }

const char *
rtj_key_at(const Rtj *obj, size_t i)
{
    return rtj_is(obj, RTJ_OBJECT) && i < obj->n ? obj->keys[i] : NULL;
}

double rtj_num(const Rtj *v, double def) { return rtj_is(v, RTJ_NUMBER) ? v->d : def; }
bool rtj_is_int(const Rtj *v) { return rtj_is(v, RTJ_NUMBER) && v->is_int; }

int64_t
rtj_int(const Rtj *v, int64_t def)
{
    if (!rtj_is(v, RTJ_NUMBER))
        return def;
    return v->is_int ? v->i : (int64_t)v->d;
}

const char *rtj_str(const Rtj *v, const char *def) { return rtj_is(v, RTJ_STRING) ? v->s : def; }
bool rtj_bool(const Rtj *v, bool def) { return rtj_is(v, RTJ_BOOL) ? v->b : def; }

/* ==== parsing =========================================================== */

typedef struct Parser {
    const char *text, *p, *end;
    char *err;
    size_t errlen;
    bool failed;
} Parser;

static void
fail(Parser *ps, const char *what)
{
    if (ps->failed)
        return;
    ps->failed = true;
    size_t line = 1, col = 1;
    for (const char *c = ps->text; c < ps->p && c < ps->end; c++) {
        if (*c == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    if (ps->p >= ps->end)
        snprintf(ps->err, ps->errlen, "line %zu, column %zu: %s (the file ends too early: truncated?)", line, col, what);
    else
        snprintf(ps->err, ps->errlen, "line %zu, column %zu: %s", line, col, what);
}

static void
skip_space(Parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static Rtj *parse_value(Parser *ps, int depth);

static bool
expect_word(Parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
        fail(ps, "unexpected text (expected a JSON value)");
        return false;
    }
    ps->p += n;
    return true;
}

static int
hex4(Parser *ps)
{
    if (ps->end - ps->p < 4) {
        fail(ps, "short \\u escape");
        return -1;
    }
    int v = 0;
    for (int k = 0; k < 4; k++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else {
            fail(ps, "bad \\u escape");
            return -1;
        }
    }
    return v;
}

static size_t
put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string's text; the opening quote is consumed.  Escapes never make the
 * decoded text longer than the source, which bounds the buffer. */
static char *
parse_string_text(Parser *ps)
{
    const char *start = ps->p;
    while (ps->p < ps->end && *ps->p != '"')
        ps->p += (*ps->p == '\\' && ps->p + 1 < ps->end) ? 2 : 1;
    if (ps->p >= ps->end) {
        fail(ps, "unterminated string");
        return NULL;
    }
    const char *stop = ps->p;
    char *out = xalloc((size_t)(stop - start) + 1), *o = out;
    for (ps->p = start; ps->p < stop;) {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20) {
            fail(ps, "control character in a string");
            free(out);
            return NULL;
        }
        if (c != '\\') {
            *o++ = (char)c;
            continue;
        }
        char e = *ps->p++;
        switch (e) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            int cp = hex4(ps);
            if (cp < 0) {
                free(out);
                return NULL;
            }
            if (cp >= 0xD800 && cp < 0xDC00 && stop - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
                ps->p += 2;
                int lo = hex4(ps);
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    fail(ps, "bad surrogate pair");
                    free(out);
                    return NULL;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            o += put_utf8(o, (unsigned)cp);
            break;
        }
        default:
            fail(ps, "bad escape in a string");
            free(out);
            return NULL;
        }
    }
    *o = '\0';
    ps->p = stop + 1;
    return out;
}

static Rtj *
parse_number(Parser *ps)
{
    const char *start = ps->p;
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
        fail(ps, "bad number");
        return NULL;
    }
    bool integral = true;
    while (ps->p < ps->end && strchr("0123456789.eE+-", *ps->p) != NULL) {
        if (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E')
            integral = false;
        ps->p++;
    }
    char buf[64];
    size_t n = (size_t)(ps->p - start);
    if (n >= sizeof buf) {
        fail(ps, "number too long");
        return NULL;
    }
    memcpy(buf, start, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    if (integral) {
        long long i = strtoll(buf, &end, 10);
        if (*end == '\0' && errno == 0)
            return rtj_integer(i);
    }
    double d = strtod(buf, &end);
    if (*end != '\0') {
        ps->p = start;
        fail(ps, "bad number");
        return NULL;
    }
    Rtj *v = new_value(RTJ_NUMBER);
    v->d = d;
    return v;
}

static Rtj *
parse_container(Parser *ps, int depth, bool object)
{
    Rtj *v = object ? rtj_object() : rtj_array();
    char close = object ? '}' : ']';
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        if (object) {
            skip_space(ps);
            if (ps->p >= ps->end || *ps->p != '"') {
                fail(ps, "expected a member name in quotes");
                break;
            }
            ps->p++;
            key = parse_string_text(ps);
            skip_space(ps);
            if (key == NULL || ps->p >= ps->end || *ps->p != ':') {
                fail(ps, "expected ':' after a member name");
                free(key);
                break;
            }
            ps->p++;
        }
        Rtj *item = parse_value(ps, depth + 1);
        if (item == NULL) {
            free(key);
            break;
        }
        if (object) {
            rtj_set(v, key, item);
            free(key);
        } else {
            rtj_append(v, item);
        }
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return v;
        }
        fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    rtj_free(v);
    return NULL;
}

static Rtj *
parse_value(Parser *ps, int depth)
{
    if (depth > MAX_DEPTH) {
        fail(ps, "nested too deeply");
        return NULL;
    }
    skip_space(ps);
    if (ps->p >= ps->end) {
        fail(ps, "expected a value");
        return NULL;
    }
    switch (*ps->p) {
    case '{': ps->p++; return parse_container(ps, depth, true);
    case '[': ps->p++; return parse_container(ps, depth, false);
    case '"': {
        ps->p++;
        char *s = parse_string_text(ps);
        if (s == NULL)
            return NULL;
        Rtj *v = new_value(RTJ_STRING);
        v->s = s;
        return v;
    }
    case 't': return expect_word(ps, "true") ? rtj_boolean(true) : NULL;
    case 'f': return expect_word(ps, "false") ? rtj_boolean(false) : NULL;
    case 'n': return expect_word(ps, "null") ? rtj_null() : NULL;
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return parse_number(ps);
        fail(ps, "not JSON (unexpected character where a value should start)");
        return NULL;
    }
}

Rtj *
rtj_parse(const char *text, size_t len, char *err, size_t errlen)
{
    Parser ps = {text, text, text + len, err, errlen, false};
    Rtj *v = parse_value(&ps, 0);
    if (v != NULL) {
        skip_space(&ps);
        if (ps.p != ps.end) {
            fail(&ps, "extra text after the JSON value");
            rtj_free(v);
            v = NULL;
        }
    }
    return v;
}

Rtj *
rtj_parse_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            cap = cap ? cap * 2 : 131072;
            char *t = realloc(text, cap);
            if (t == NULL) {
                free(text);
                fclose(f);
                snprintf(err, errlen, "out of memory reading it");
                return NULL;
            }
            text = t;
        }
        size_t r = fread(text + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    Rtj *v = NULL;
    if (bad)
        snprintf(err, errlen, "read error");
    else if (len == 0)
        snprintf(err, errlen, "empty file");
    else
        v = rtj_parse(text, len, err, errlen);
    free(text);
    return v;
}

/* ==== writing =========================================================== */

typedef struct Out {
    char *buf;
    size_t len, cap;
} Out;

static void
out_put(Out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (o->len + n + 1 > cap)
            cap *= 2;
        char *b = realloc(o->buf, cap);
        if (b == NULL) {
            fputs("rtbench: out of memory\n", stderr);
            abort();
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void out_str(Out *o, const char *s) { out_put(o, s, strlen(s)); }

/* 15 significant digits read back exactly for most doubles (and %g drops
 * trailing zeros, so 0.1 stays "0.1"); 17 always do.  Trying 15, 16, 17
 * keeps the text short at three conversions at most -- reports carry tens
 * of thousands of pause times. */
void
rtj_format_double(double d, char *buf, size_t size)
{
    if (!isfinite(d)) {
        snprintf(buf, size, "null");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

static void
out_quoted(Out *o, const char *s)
{
    out_put(o, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        char esc[8];
        switch (*c) {
        case '"': out_put(o, "\\\"", 2); break;
        case '\\': out_put(o, "\\\\", 2); break;
        case '\n': out_put(o, "\\n", 2); break;
        case '\r': out_put(o, "\\r", 2); break;
        case '\t': out_put(o, "\\t", 2); break;
        default:
            if (*c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *c);
                out_str(o, esc);
            } else {
                out_put(o, (const char *)c, 1);
            }
        }
    }
    out_put(o, "\"", 1);
}

static void
newline(Out *o, int indent, int depth)
{
    if (indent <= 0)
        return;
    out_put(o, "\n", 1);
    for (int k = 0; k < indent * depth; k++)
        out_put(o, " ", 1);
}

/* Arrays of numbers stay on one line even when indenting: timelines and
 * pause lists would otherwise take a line per value. */
static bool
all_scalars(const Rtj *v)
{
    for (size_t k = 0; k < v->n; k++)
        if (v->items[k]->type == RTJ_ARRAY || v->items[k]->type == RTJ_OBJECT)
            return false;
    return true;
}

static void
dump(Out *o, const Rtj *v, int indent, int depth)
{
    char num[40];
    switch (v->type) {
    case RTJ_NULL: out_str(o, "null"); return;
    case RTJ_BOOL: out_str(o, v->b ? "true" : "false"); return;
    case RTJ_STRING: out_quoted(o, v->s); return;
    case RTJ_NUMBER:
        if (v->is_int)
            snprintf(num, sizeof num, "%lld", (long long)v->i);
        else
            rtj_format_double(v->d, num, sizeof num);
        out_str(o, num);
        return;
    case RTJ_ARRAY:
    case RTJ_OBJECT: {
        bool obj = v->type == RTJ_OBJECT, flat = !obj && all_scalars(v);
        out_put(o, obj ? "{" : "[", 1);
        for (size_t k = 0; k < v->n; k++) {
            if (k)
                out_put(o, flat && indent > 0 ? ", " : ",", flat && indent > 0 ? 2 : 1);
            if (!flat)
                newline(o, indent, depth + 1);
            if (obj) {
                out_quoted(o, v->keys[k]);
                out_put(o, indent > 0 ? ": " : ":", indent > 0 ? 2 : 1);
            }
            dump(o, v->items[k], indent, depth + 1);
        }
        if (v->n && !flat)
            newline(o, indent, depth);
        out_put(o, obj ? "}" : "]", 1);
        return;
    }
    }
}

char *
rtj_dump(const Rtj *v, int indent, size_t *len)
{
    Out o = {0};
    dump(&o, v, indent, 0);
    if (indent > 0)
        out_put(&o, "\n", 1);
    if (len != NULL)
        *len = o.len;
    return o.buf;
}

int
rtj_fwrite(const Rtj *v, int indent, FILE *out)
{
    size_t len;
    char *text = rtj_dump(v, indent, &len);
    int r = fwrite(text, 1, len, out) == len ? 0 : -1;
    free(text);
    return r;
}
