/* reader.c -- trace file readers: buffered lines over zlib, six formats.
 *
 * One reader serves every format: a big buffer refilled by gzread (which reads
 * plain files too), lines found with memchr, and hand-written number parsers,
 * because strtod/strptime per field would cost more than decompression. Each
 * format is a header (column names looked up by name, so extra columns are
 * allowed) plus a way to read time; Mooncake is JSON Lines parsed by jansson.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "source_impl.h"
#include "yamldoc.h" /* ls_hash64 */

#define BUF_CAP (2u * LS_TRACE_MAX_LINE + 1u) /* a full line plus a read of the same size */
#define BUF_START (64u * 1024u + 1u)           /* grown up to BUF_CAP for long lines */
#define MAX_COLUMNS 64
#define MAX_ABS_SECONDS 4000000000LL /* 4e9 s in ns still fits in int64 with room to subtract */

static const char *const format_names[] = {"auto", "native", "azure", "vidur", "lengths", "burstgpt",
                                           "mooncake"};

const char *ls_trace_format_name(ls_trace_format f)
{
    if ((unsigned)f >= sizeof format_names / sizeof format_names[0])
        return NULL;
    return format_names[f];
}

bool ls_trace_format_parse(const char *name, ls_trace_format *out)
{
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (!strcmp(name, format_names[i])) {
            *out = (ls_trace_format)i;
            return true;
        }
    return false;
}

void ls_trace_opts_default(ls_trace_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = LS_FMT_AUTO;
    o->backwards_tolerance_ns = -1;
}

typedef struct reader {
    ls_source base;
    gzFile gz;
    char *name;
    char *buf;
    size_t cap, pos, end;
    bool eof;
    bool zfail;                   /* zlib reported damage: fail at the next refill */
    char zmsg[128];
    uint64_t lineno;
    ls_trace_format fmt;
    int nfields;                  /* columns in the header (CSV) */
    int col_time, col_prompt, col_output, col_session, col_hash, col_class; /* -1: absent */
    char *pending;                /* first JSON line, read while detecting the format */
    size_t pending_len;
    uint64_t blank_line;          /* a blank line seen (error if a row follows) */
    bool have_first;
    int64_t t0, prev;
    int64_t tol;
    bool keep_failed;
    bool any_hash_count;          /* Mooncake: hash_ids of any length */
    uint64_t rows, failed, clamped;
    int64_t *hash;
    size_t hash_cap;
    /* sort: true */
    bool raw;                     /* return absolute times, no order check (while collecting) */
    bool sorted;
    ls_request_array arr;
    size_t ai;
    /* sticky error */
    bool broken;
    ls_error err;
} reader;

static const ls_source_vt reader_vt;

ls_trace_format ls_trace_source_format(const ls_source *s)
{
    if (!s || s->vt != &reader_vt)
        return LS_FMT_AUTO;
    return ((const reader *)s)->fmt;
}

/* ---- lines ----------------------------------------------------------------- */

/* Next line without its end (LF or CRLF), NUL-terminated in place.
 * Returns 1, 0 at the end of the file, -1 on error. */
static int read_line(reader *r, char **line, size_t *len, ls_error *e)
{
    char *start;
    size_t n;
    for (;;) {
        start = r->buf + r->pos;
        size_t avail = r->end - r->pos;
        char *nl = memchr(start, '\n', avail);
        if (nl) {
            n = (size_t)(nl - start);
            r->pos += n + 1;
            break;
        }
        if (r->eof) {
            if (avail == 0)
                return 0;
            n = avail; /* last line without a final newline (Azure 2023) */
            r->pos = r->end;
            break;
        }
        if (r->zfail) /* data before the damage has been used; the rest is lost */
            return ls_fail(e, LS_EIO, "%s:%" PRIu64 ": %s: expected a complete gzip stream (truncated or "
                                      "corrupt file?)",
                           r->name, r->lineno + 1, r->zmsg), -1;
        if (avail > LS_TRACE_MAX_LINE)
            return ls_fail(e, LS_EINVAL,
                           "%s:%" PRIu64 ": line longer than %u bytes: expected a text trace with "
                           "lines of sane length (is this a binary file?)",
                           r->name, r->lineno + 1, LS_TRACE_MAX_LINE), -1;
        memmove(r->buf, start, avail);
        r->pos = 0;
        r->end = avail;
        if (r->cap - 1 - r->end < r->cap / 4 && r->cap < BUF_CAP) { /* a long line: make room */
            r->cap = r->cap * 2 > BUF_CAP ? BUF_CAP : r->cap * 2;
            r->buf = ls_xrealloc(r->buf, r->cap);
        }
        int got = gzread(r->gz, r->buf + r->end, (unsigned)(r->cap - 1 - r->end));
        int zerr = Z_OK;
        const char *zmsg = gzerror(r->gz, &zerr);
        if (got < 0 || (zerr != Z_OK && zerr != Z_STREAM_END)) {
            /* zlib prefixes its message with the file name ("<fd:3>: "): keep only the reason */
            const char *m = zmsg && *zmsg ? zmsg : "read error";
            if (!strncmp(m, "<fd:", 4) && strstr(m, ": "))
                m = strstr(m, ": ") + 2;
            snprintf(r->zmsg, sizeof r->zmsg, "%s", m);
            r->zfail = true;
            if (got <= 0)
                continue;
        }
        if (got == 0)
            r->eof = true;
        r->end += (size_t)got;
    }
    r->lineno++;
    if (n && start[n - 1] == '\r')
        n--;
    start[n] = '\0'; /* reads leave one spare byte after the data */
    *line = start;
    *len = n;
    return 1;
}

/* ---- numbers --------------------------------------------------------------- */

typedef enum num_rc { NUM_OK, NUM_EMPTY, NUM_NEG, NUM_BAD, NUM_BIG } num_rc;

static void trim(const char **p, const char **end)
{
    while (*p < *end && (**p == ' ' || **p == '\t'))
        (*p)++;
    while (*end > *p && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
        (*end)--;
}

/* A token count: digits, optionally followed by ".0..." (pandas writes ints as floats). */
static num_rc parse_tokens(const char *p, const char *end, int32_t *out)
{
    trim(&p, &end);
    if (p == end)
        return NUM_EMPTY;
    if (*p == '-') {
        const char *q = p + 1;
        if (q < end && isdigit((unsigned char)*q))
            return NUM_NEG;
        return NUM_BAD;
    }
    if (*p == '+')
        p++;
    int64_t v = 0;
    const char *s = p;
    while (p < end && (unsigned)(*p - '0') < 10) {
        v = v * 10 + (*p - '0');
        if (v > INT32_MAX) {
            while (p < end && (unsigned)(*p - '0') < 10)
                p++;
            return p == end ? NUM_BIG : NUM_BAD;
        }
        p++;
    }
    if (p == s)
        return NUM_BAD;
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p == '0')
            p++;
    }
    if (p != end)
        return NUM_BAD;
    *out = (int32_t)v;
    return NUM_OK;
}

/* Seconds as a decimal (Python float repr included) -> ns, exactly for up to 9
 * fractional digits (the 10th rounds). Exponents take the strtod path. */
static bool parse_seconds_ns(const char *p, const char *end, int64_t *out)
{
    trim(&p, &end);
    const char *begin = p;
    bool neg = false;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    int64_t ip = 0;
    int nd = 0, fd = 0;
    while (p < end && (unsigned)(*p - '0') < 10) {
        if (++nd > 10)
            return false;
        ip = ip * 10 + (*p++ - '0');
    }
    int64_t frac = 0;
    if (p < end && *p == '.') {
        p++;
        while (p < end && (unsigned)(*p - '0') < 10) {
            int d = *p++ - '0';
            if (fd < 9)
                frac = frac * 10 + d, fd++;
            else if (fd == 9)
                frac += d >= 5, fd++;
        }
    }
    if (nd == 0 && fd == 0)
        return false;
    if (p < end && (*p == 'e' || *p == 'E')) {
        char tmp[64];
        size_t len = (size_t)(end - begin);
        if (len >= sizeof tmp)
            return false;
        memcpy(tmp, begin, len);
        tmp[len] = '\0';
        char *ep;
        errno = 0;
        double x = strtod(tmp, &ep);
        if (ep != tmp + len || errno || !isfinite(x) || fabs(x) > (double)MAX_ABS_SECONDS)
            return false;
        *out = llround(x * 1e9);
        return true;
    }
    if (p != end || ip > MAX_ABS_SECONDS)
        return false;
    for (int k = fd < 9 ? fd : 9; k < 9; k++)
        frac *= 10;
    int64_t ns = ip * 1000000000LL + frac;
    *out = neg ? -ns : ns;
    return true;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's algorithm: days since 1970-01-01 in the proleptic Gregorian calendar */
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((unsigned)(p[i] - '0') >= 10)
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* "YYYY-MM-DD HH:MM:SS[.f{1,9}][Z|+HH:MM|-HH:MM]" -> ns since the epoch (UTC when an offset is given). */
static bool parse_datetime_ns(const char *p, const char *end, int64_t *out)
{
    trim(&p, &end);
    if (end - p < 19 || p[4] != '-' || p[7] != '-' || (p[10] != ' ' && p[10] != 'T') || p[13] != ':' ||
        p[16] != ':')
        return false;
    int Y = digits(p, 4), M = digits(p + 5, 2), D = digits(p + 8, 2);
    int h = digits(p + 11, 2), mi = digits(p + 14, 2), s = digits(p + 17, 2);
    if (Y < 1970 || Y > 2100 || M < 1 || M > 12 || D < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 ||
        s > 59)
        return false;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int dim = mdays[M - 1] + (M == 2 && ((Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0));
    if (D > dim)
        return false;
    p += 19;
    int64_t frac = 0;
    if (p < end && *p == '.') {
        p++;
        int fd = 0;
        while (p < end && (unsigned)(*p - '0') < 10) {
            if (fd < 9)
                frac = frac * 10 + (*p - '0');
            fd++;
            p++;
        }
        if (fd == 0)
            return false;
        for (int k = fd; k < 9; k++)
            frac *= 10;
    }
    int64_t offset_s = 0;
    if (p < end && (*p == 'Z' || *p == 'z')) {
        p++;
    } else if (p < end && (*p == '+' || *p == '-')) {
        int sign = *p == '-' ? -1 : 1;
        p++;
        int oh, om;
        if (end - p >= 5 && p[2] == ':') {
            oh = digits(p, 2), om = digits(p + 3, 2);
            p += 5;
        } else if (end - p >= 4) {
            oh = digits(p, 2), om = digits(p + 2, 2);
            p += 4;
        } else {
            return false;
        }
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return false;
        offset_s = sign * (oh * 3600 + om * 60);
    }
    if (p != end)
        return false;
    int64_t secs = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + mi * 60 + s - offset_s;
    *out = secs * 1000000000LL + frac;
    return true;
}

/* ---- errors with context ---------------------------------------------------- */

static int row_error(reader *r, ls_error *e, int col, const char *what, const char *p, const char *q)
{
    int shown = (int)(q - p) > 40 ? 40 : (int)(q - p);
    const char *colname = "";
    static const char *const names[][4] = {
        /* time, prompt, output per format, for messages */
        {"", "", "", ""},
        {"", "arrival_s", "prompt_tokens", "output_tokens"},
        {"", "TIMESTAMP", "ContextTokens", "GeneratedTokens"},
        {"", "arrived_at", "num_prefill_tokens", "num_decode_tokens"},
        {"", "", "num_prefill_tokens", "num_decode_tokens"},
        {"", "Timestamp", "Request tokens", "Response tokens"},
        {"", "timestamp", "input_length", "output_length"},
    };
    if (col == r->col_time)
        colname = names[r->fmt][1];
    else if (col == r->col_prompt)
        colname = names[r->fmt][2];
    else if (col == r->col_output)
        colname = names[r->fmt][3];
    else if (col == r->col_session)
        colname = "session";
    else if (col == r->col_hash)
        colname = "hash_ids";
    else if (col == r->col_class)
        colname = "class";
    char text[48];
    for (int i = 0; i < shown; i++) /* control bytes would cut or garble the message */
        text[i] = ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) ? '?' : p[i];
    text[shown] = '\0';
    return ls_fail(e, LS_EINVAL, "%s:%" PRIu64 ": column %d (%s): %s, got '%s%s'", r->name, r->lineno, col + 1,
                   colname, what, text, (q - p) > 40 ? "..." : ""),
           -1;
}

static int token_error(reader *r, ls_error *e, int col, num_rc rc, const char *p, const char *q)
{
    switch (rc) {
    case NUM_EMPTY:
        return row_error(r, e, col, "expected a token count, the field is empty", p, q);
    case NUM_NEG:
        return row_error(r, e, col, "expected a non-negative token count", p, q);
    case NUM_BIG:
        return row_error(r, e, col, "token count too large (expected at most 2147483647)", p, q);
    default:
        return row_error(r, e, col, "expected a non-negative integer token count", p, q);
    }
}

/* ---- rows ------------------------------------------------------------------ */

/* Room for n hash ids in the reader's array (valid until the next row). */
static void store_hash(reader *r, uint32_t n)
{
    if (n > r->hash_cap) {
        r->hash_cap = (size_t)n * 2;
        r->hash = ls_xrealloc(r->hash, r->hash_cap * sizeof *r->hash);
    }
}

/* Space- or semicolon-separated integers (native hash_ids column). */
static int parse_hash_field(reader *r, int col, const char *p, const char *end, ls_request *out, ls_error *e)
{
    uint32_t n = 0;
    const char *s = p;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ';'))
            p++;
        if (p == end)
            break;
        const char *q = p;
        bool neg = *q == '-';
        if (neg)
            q++;
        int64_t v = 0;
        const char *d = q;
        while (q < end && (unsigned)(*q - '0') < 10) {
            if (v > (INT64_MAX - 9) / 10)
                return row_error(r, e, col, "hash id too large for a 64-bit integer", s, end);
            v = v * 10 + (*q++ - '0');
        }
        if (q == d || (q < end && *q != ' ' && *q != ';'))
            return row_error(r, e, col, "expected integers separated by spaces", s, end);
        store_hash(r, n + 1);
        r->hash[n++] = neg ? -v : v;
        p = q;
    }
    out->n_hash_ids = n;
    out->hash_ids = n ? r->hash : NULL;
    return 1;
}

static int parse_csv_row(reader *r, char *line, size_t len, ls_request *out, ls_error *e)
{
    const char *fs[MAX_COLUMNS], *fe[MAX_COLUMNS];
    const char *p = line, *end = line + len;
    int nf = 0;
    /* fields are short: a plain loop beats a memchr call per field */
    for (;;) {
        const char *c = p;
        while (c < end && *c != ',')
            c++;
        if (nf == r->nfields)
            return ls_fail(e, LS_EINVAL, "%s:%" PRIu64 ": extra column: expected %d fields as in the header",
                           r->name, r->lineno, r->nfields),
                   -1;
        fs[nf] = p;
        fe[nf] = c;
        nf++;
        if (c == end)
            break;
        p = c + 1;
    }
    if (nf != r->nfields)
        return ls_fail(e, LS_EINVAL, "%s:%" PRIu64 ": missing column: expected %d fields as in the header, got %d",
                       r->name, r->lineno, r->nfields, nf),
               -1;
    num_rc rc;
    if ((rc = parse_tokens(fs[r->col_prompt], fe[r->col_prompt], &out->prompt_tokens)) != NUM_OK)
        return token_error(r, e, r->col_prompt, rc, fs[r->col_prompt], fe[r->col_prompt]);
    if ((rc = parse_tokens(fs[r->col_output], fe[r->col_output], &out->output_tokens)) != NUM_OK)
        return token_error(r, e, r->col_output, rc, fs[r->col_output], fe[r->col_output]);
    out->arrival_ns = 0;
    if (r->col_time >= 0) {
        const char *a = fs[r->col_time], *b = fe[r->col_time];
        if (r->fmt == LS_FMT_AZURE) {
            if (!parse_datetime_ns(a, b, &out->arrival_ns))
                return row_error(r, e, r->col_time,
                                 "expected a date-time like '2023-11-16 18:17:03.9799600' (optionally "
                                 "with +00:00)",
                                 a, b);
        } else if (!parse_seconds_ns(a, b, &out->arrival_ns)) {
            return row_error(r, e, r->col_time, "expected a time in seconds (a decimal number below 4e9)", a, b);
        }
    }
    out->session_id = -1;
    if (r->col_session >= 0) {
        const char *a = fs[r->col_session], *b = fe[r->col_session];
        trim(&a, &b);
        int64_t v = 0;
        const char *q = a;
        while (q < b && (unsigned)(*q - '0') < 10 && v <= (INT64_MAX - (*q - '0')) / 10)
            v = v * 10 + (*q++ - '0');
        if (a == b || (b - a == 2 && a[0] == '-' && a[1] == '1'))
            v = -1; /* none (the writer's -1) */
        else if (q != b) /* not a plain number: a stable hash of the text */
            v = (int64_t)(ls_hash64(a, (size_t)(b - a)) >> 1);
        out->session_id = v;
    }
    out->class_id = -1;
    if (r->col_class >= 0) {
        /* the 0-based index of the request's class in the workload's `classes:` (classes.h) */
        const char *a = fs[r->col_class], *b = fe[r->col_class];
        trim(&a, &b);
        int64_t v = 0;
        const char *q = a;
        while (q < b && (unsigned)(*q - '0') < 10 && v < LS_MAX_CLASSES)
            v = v * 10 + (*q++ - '0');
        if (a == b)
            v = -1; /* empty: none given (drawn by the shares, or class 0) */
        else if (q != b || v >= LS_MAX_CLASSES) {
            char msg[96];
            snprintf(msg, sizeof msg, "expected a class index from 0 to %d (the workload's classes, in order)",
                     LS_MAX_CLASSES - 1);
            return row_error(r, e, r->col_class, msg, a, b);
        }
        out->class_id = (int32_t)v;
    }
    out->n_hash_ids = 0;
    out->hash_ids = NULL;
    if (r->col_hash >= 0 && parse_hash_field(r, r->col_hash, fs[r->col_hash], fe[r->col_hash], out, e) < 0)
        return -1;
    if (out->n_hash_ids) {
        /* the same rules as Mooncake's: ids >= 0, one per 512-token prompt block (an empty field: none) */
        const char *a = fs[r->col_hash], *b = fe[r->col_hash];
        for (uint32_t i = 0; i < out->n_hash_ids; i++)
            if (out->hash_ids[i] < 0)
                return row_error(r, e, r->col_hash, "negative hash id: expected block hashes >= 0", a, b);
        int64_t blocks = ((int64_t)out->prompt_tokens + LS_MOONCAKE_BLOCK_TOKENS - 1) / LS_MOONCAKE_BLOCK_TOKENS;
        if (!r->any_hash_count && (int64_t)out->n_hash_ids != blocks) {
            char msg[200];
            snprintf(msg, sizeof msg,
                     "%" PRIu32 " hash ids for %" PRId32 " prompt tokens: expected ceil(prompt_tokens/%d) = %" PRId64
                     " (mooncake_hash_ids: any_length accepts other lengths)",
                     out->n_hash_ids, out->prompt_tokens, LS_MOONCAKE_BLOCK_TOKENS, blocks);
            return row_error(r, e, r->col_hash, msg, a, b);
        }
    }
    return 1;
}

static int json_error(reader *r, ls_error *e, const char *what)
{
    return ls_fail(e, LS_EINVAL, "%s:%" PRIu64 ": %s", r->name, r->lineno, what), -1;
}

static int json_tokens(reader *r, ls_error *e, json_t *o, const char *key, int32_t *out)
{
    json_t *v = json_object_get(o, key);
    char msg[160];
    if (!v) {
        snprintf(msg, sizeof msg, "field '%s': missing, expected a token count", key);
        return json_error(r, e, msg);
    }
    if (!json_is_integer(v)) {
        snprintf(msg, sizeof msg, "field '%s': expected an integer token count", key);
        return json_error(r, e, msg);
    }
    json_int_t x = json_integer_value(v);
    if (x < 0 || x > INT32_MAX) {
        snprintf(msg, sizeof msg, "field '%s': token count %lld out of range (expected 0 to 2147483647)", key,
                 (long long)x);
        return json_error(r, e, msg);
    }
    *out = (int32_t)x;
    return 1;
}

static int parse_json_row(reader *r, const char *line, size_t len, ls_request *out, ls_error *e)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, 0, &jerr);
    if (!o)
        return ls_fail(e, LS_EINVAL, "%s:%" PRIu64 ":%d: invalid JSON: %s", r->name, r->lineno, jerr.column,
                       jerr.text),
               -1;
    int rc = 1;
    if (!json_is_object(o)) {
        rc = json_error(r, e, "expected a JSON object {\"timestamp\", \"input_length\", \"output_length\", "
                              "\"hash_ids\"}");
        goto done;
    }
    json_t *ts = json_object_get(o, "timestamp");
    if (json_is_integer(ts)) {
        json_int_t ms = json_integer_value(ts);
        if (ms < -MAX_ABS_SECONDS * 1000 || ms > MAX_ABS_SECONDS * 1000) {
            rc = json_error(r, e, "field 'timestamp': out of range (expected milliseconds below 4e12)");
            goto done;
        }
        out->arrival_ns = (int64_t)ms * 1000000;
    } else if (json_is_real(ts)) {
        double ms = json_real_value(ts);
        if (!isfinite(ms) || fabs(ms) > MAX_ABS_SECONDS * 1000.0) {
            rc = json_error(r, e, "field 'timestamp': out of range (expected milliseconds below 4e12)");
            goto done;
        }
        out->arrival_ns = llround(ms * 1e6);
    } else {
        rc = json_error(r, e, ts ? "field 'timestamp': expected a number of milliseconds"
                                 : "field 'timestamp': missing, expected a number of milliseconds");
        goto done;
    }
    if ((rc = json_tokens(r, e, o, "input_length", &out->prompt_tokens)) < 0 ||
        (rc = json_tokens(r, e, o, "output_length", &out->output_tokens)) < 0)
        goto done;
    out->n_hash_ids = 0;
    out->hash_ids = NULL;
    out->session_id = -1;
    out->class_id = -1;
    json_t *h = json_object_get(o, "hash_ids");
    if (h) {
        if (!json_is_array(h)) {
            rc = json_error(r, e, "field 'hash_ids': expected a list of integers");
            goto done;
        }
        size_t n = json_array_size(h);
        if (n > UINT32_MAX) {
            rc = json_error(r, e, "field 'hash_ids': too long");
            goto done;
        }
        store_hash(r, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            json_t *x = json_array_get(h, i);
            if (!json_is_integer(x)) {
                char msg[128];
                snprintf(msg, sizeof msg, "field 'hash_ids': item %zu: expected an integer", i);
                rc = json_error(r, e, msg);
                goto done;
            }
            r->hash[i] = (int64_t)json_integer_value(x);
            if (r->hash[i] < 0) {
                char msg[160];
                snprintf(msg, sizeof msg, "field 'hash_ids': item %zu: negative id %lld: expected a block hash >= 0",
                         i, (long long)r->hash[i]);
                rc = json_error(r, e, msg);
                goto done;
            }
        }
        /* one id per 512-token block of the prompt, the last block partial */
        int64_t blocks = ((int64_t)out->prompt_tokens + LS_MOONCAKE_BLOCK_TOKENS - 1) / LS_MOONCAKE_BLOCK_TOKENS;
        if (!r->any_hash_count && (int64_t)n != blocks) {
            char msg[320];
            snprintf(msg, sizeof msg,
                     "field 'hash_ids': %zu ids for input_length %" PRId32 ": expected ceil(input_length/%d) = %" PRId64
                     " (one per prefix block; mooncake_hash_ids: any_length accepts other lengths)",
                     n, out->prompt_tokens, LS_MOONCAKE_BLOCK_TOKENS, blocks);
            rc = json_error(r, e, msg);
            goto done;
        }
        out->n_hash_ids = (uint32_t)n;
        out->hash_ids = n ? r->hash : NULL;
    }
done:
    json_decref(o);
    return rc;
}

/* One data row with its absolute time (format units -> ns), skipping nothing
 * but excluded failed rows. */
static int read_row(reader *r, ls_request *out, ls_error *e)
{
    for (;;) {
        char *line;
        size_t len;
        int rc;
        if (r->pending) {
            line = r->pending;
            len = r->pending_len;
            r->pending = NULL;
            rc = 1;
        } else {
            rc = read_line(r, &line, &len, e);
        }
        if (rc == 0 && r->rows == 0) /* a header alone is a truncated or mistaken file, not an empty workload */
            return ls_fail(e, LS_EINVAL, "%s: no data rows after the header", r->name), -1;
        if (rc <= 0)
            return rc;
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t'))
            k++;
        if (k == len) { /* blank: fine at the end of the file only */
            if (!r->blank_line)
                r->blank_line = r->lineno;
            continue;
        }
        if (r->blank_line)
            return ls_fail(e, LS_EINVAL, "%s:%" PRIu64 ": blank line: expected a data row", r->name,
                           r->blank_line),
                   -1;
        if (r->fmt == LS_FMT_MOONCAKE)
            rc = parse_json_row(r, line, len, out, e);
        else
            rc = parse_csv_row(r, line, len, out, e);
        if (rc < 0)
            return rc;
        out->line = r->lineno;
        r->rows++;
        if (r->fmt == LS_FMT_BURSTGPT && out->output_tokens == 0) {
            r->failed++;
            if (!r->keep_failed)
                continue;
        }
        return 1;
    }
}

static int reader_next(ls_source *s, ls_request *out, ls_error *e)
{
    reader *r = (reader *)s;
    if (r->broken) {
        if (e)
            *e = r->err;
        return -1;
    }
    if (r->sorted) {
        if (r->ai >= r->arr.n)
            return 0;
        *out = r->arr.v[r->ai++];
        return 1;
    }
    ls_error local;
    ls_error *pe = e ? e : &local;
    int rc = read_row(r, out, pe);
    if (rc < 0) {
        r->broken = true;
        r->err = *pe;
        return -1;
    }
    if (rc == 0 || r->raw)
        return rc;
    if (r->fmt == LS_FMT_LENGTHS) {
        out->arrival_ns = 0;
        return 1;
    }
    if (!r->have_first) {
        r->have_first = true;
        r->t0 = out->arrival_ns;
        r->prev = 0;
    }
    int64_t rel = out->arrival_ns - r->t0;
    if (rel < r->prev) {
        if (r->prev - rel > r->tol) {
            ls_fail(pe, LS_EINVAL,
                    "%s:%" PRIu64 ": timestamp goes back %.6f s before the previous row (tolerance %.3f ms): "
                    "expected non-decreasing times (set sort: true or --sort to sort the trace)",
                    r->name, r->lineno, (double)(r->prev - rel) / 1e9, (double)r->tol / 1e6);
            r->broken = true;
            r->err = *pe;
            return -1;
        }
        r->clamped++;
        rel = r->prev;
    }
    r->prev = rel;
    out->arrival_ns = rel;
    return 1;
}

static void reader_free(ls_source *s)
{
    reader *r = (reader *)s;
    if (r->gz)
        gzclose(r->gz);
    free(r->name);
    free(r->buf);
    free(r->hash);
    ls_request_array_free(&r->arr);
    free(r);
}

static void reader_report(const ls_source *s, ls_source_report *rep)
{
    const reader *r = (const reader *)s;
    snprintf(rep->format, sizeof rep->format, "%s", ls_trace_format_name(r->fmt));
    rep->has_times = r->fmt != LS_FMT_LENGTHS;
    rep->rows_read += r->rows;
    rep->failed_seen += r->failed;
    rep->failed_kept = r->keep_failed;
    rep->clamped_backwards += r->clamped;
    rep->sorted = rep->sorted || r->sorted;
}

static const ls_source_vt reader_vt = {reader_next, reader_free, reader_report};

/* ---- header and format detection ---------------------------------------------- */

typedef struct colspec {
    ls_trace_format fmt;
    const char *time, *prompt, *output, *session, *hash, *cls;
} colspec;

static const colspec specs[] = {
    /* detection order: the first format whose columns are all present wins */
    {LS_FMT_NATIVE, "arrival_s", "prompt_tokens", "output_tokens", "session_id", "hash_ids", "class"},
    {LS_FMT_AZURE, "TIMESTAMP", "ContextTokens", "GeneratedTokens", NULL, NULL, NULL},
    {LS_FMT_VIDUR, "arrived_at", "num_prefill_tokens", "num_decode_tokens", NULL, NULL, NULL},
    {LS_FMT_BURSTGPT, "Timestamp", "Request tokens", "Response tokens", "Session ID", NULL, NULL},
    {LS_FMT_LENGTHS, NULL, "num_prefill_tokens", "num_decode_tokens", NULL, NULL, NULL},
};

static int find_col(char **names, int n, const char *want)
{
    if (!want)
        return -1;
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], want))
            return i;
    return -1;
}

static bool looks_binary(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return true;
    }
    return false;
}

static ls_status setup_header(reader *r, char *line, size_t len, ls_trace_format forced, ls_error *e)
{
    if (len >= 3 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB &&
        (unsigned char)line[2] == 0xBF)
        line += 3, len -= 3; /* UTF-8 byte order mark */
    if (looks_binary(line, len))
        return ls_fail(e, LS_EINVAL, "%s:1: binary data (control bytes): expected a text trace "
                                     "(CSV with a header, or JSON Lines)",
                       r->name);
    size_t k = 0;
    while (k < len && (line[k] == ' ' || line[k] == '\t'))
        k++;
    if (k == len)
        return ls_fail(e, LS_EINVAL, "%s:1: blank first line: expected a header line", r->name);
    if (line[k] == '{' || forced == LS_FMT_MOONCAKE) {
        if (forced != LS_FMT_AUTO && forced != LS_FMT_MOONCAKE)
            return ls_fail(e, LS_EINVAL, "%s:1: a JSON line, but format %s was asked for (expected a CSV header)",
                           r->name, ls_trace_format_name(forced));
        r->fmt = LS_FMT_MOONCAKE;
        r->pending = line;
        r->pending_len = len;
        r->col_time = r->col_prompt = r->col_output = r->col_session = r->col_hash = r->col_class = -1;
        return LS_OK;
    }
    char shown[84]; /* the header as it was, for messages (splitting writes NULs into it) */
    snprintf(shown, sizeof shown, "%.80s", line);
    char *names[MAX_COLUMNS];
    int n = 0;
    char *p = line, *end = line + len;
    for (;;) {
        char *c = memchr(p, ',', (size_t)(end - p));
        if (n == MAX_COLUMNS)
            return ls_fail(e, LS_EINVAL, "%s:1: more than %d columns in the header", r->name, MAX_COLUMNS);
        char *fend = c ? c : end;
        while (p < fend && (*p == ' ' || *p == '\t'))
            p++;
        while (fend > p && (fend[-1] == ' ' || fend[-1] == '\t'))
            fend--;
        *fend = '\0';
        names[n++] = p;
        if (!c)
            break;
        p = c + 1;
    }
    r->nfields = n;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        const colspec *cs = &specs[i];
        if (forced != LS_FMT_AUTO && forced != cs->fmt)
            continue;
        int t = find_col(names, n, cs->time), pr = find_col(names, n, cs->prompt),
            ou = find_col(names, n, cs->output);
        if ((cs->time && t < 0) || pr < 0 || ou < 0) {
            if (forced == LS_FMT_AUTO)
                continue;
            return ls_fail(e, LS_EINVAL, "%s:1: header lacks the column '%s' that format %s needs "
                                         "(expected %s%s%s,%s)",
                           r->name, (cs->time && t < 0) ? cs->time : pr < 0 ? cs->prompt : cs->output,
                           ls_trace_format_name(cs->fmt), cs->time ? cs->time : "", cs->time ? "," : "",
                           cs->prompt, cs->output);
        }
        r->fmt = cs->fmt;
        r->col_time = t;
        r->col_prompt = pr;
        r->col_output = ou;
        r->col_session = find_col(names, n, cs->session);
        r->col_hash = find_col(names, n, cs->hash);
        r->col_class = find_col(names, n, cs->cls);
        return LS_OK;
    }
    return ls_fail(e, LS_EINVAL, "%s:1: unrecognised header '%.80s': expected one of "
                                 "'arrival_s,prompt_tokens,output_tokens' (native), "
                                 "'TIMESTAMP,ContextTokens,GeneratedTokens' (azure), "
                                 "'arrived_at,num_prefill_tokens,num_decode_tokens' (vidur), "
                                 "'num_prefill_tokens,num_decode_tokens' (lengths), "
                                 "'Timestamp,...,Request tokens,Response tokens,...' (burstgpt), "
                                 "or JSON Lines (mooncake)",
                   r->name, shown);
}

static int cmp_req(const void *a, const void *b)
{
    const ls_request *x = a, *y = b;
    if (x->arrival_ns != y->arrival_ns)
        return x->arrival_ns < y->arrival_ns ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line; /* ties keep file order */
}

ls_status ls_trace_open_fd(int fd, const char *name, const ls_trace_opts *opts, ls_source **out, ls_error *e)
{
    *out = NULL;
    ls_trace_opts def;
    if (!opts) {
        ls_trace_opts_default(&def);
        opts = &def;
    }
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return ls_fail(e, LS_EIO, "%s: cannot read: %s", name, strerror(errno));
    }
    gzbuffer(gz, 128 * 1024);
    reader *r = ls_xcalloc(1, sizeof *r);
    r->base.vt = &reader_vt;
    r->gz = gz;
    r->name = ls_xstrdup(name);
    r->cap = BUF_START;
    r->buf = ls_xmalloc(r->cap);
    r->tol = opts->backwards_tolerance_ns < 0 ? LS_TRACE_BACKWARDS_TOLERANCE_NS : opts->backwards_tolerance_ns;
    r->keep_failed = opts->burstgpt_keep_failed;
    r->any_hash_count = opts->mooncake_any_hash_count;
    char *line;
    size_t len;
    int rc = read_line(r, &line, &len, e);
    if (rc == 0)
        rc = (ls_fail(e, LS_EINVAL, "%s: empty file: expected a header line and data rows", name), -1);
    ls_status st = rc < 0 ? (e ? e->code : LS_EINVAL) : setup_header(r, line, len, opts->format, e);
    if (st != LS_OK) {
        reader_free(&r->base);
        return st;
    }
    if (opts->sort && r->fmt != LS_FMT_LENGTHS) {
        r->raw = true;
        ls_request_array arr;
        st = ls_source_collect(&r->base, 0, &arr, e);
        if (st != LS_OK) {
            reader_free(&r->base);
            return st;
        }
        r->raw = false;
        if (arr.n > 1)
            qsort(arr.v, arr.n, sizeof *arr.v, cmp_req);
        int64_t t0 = arr.n ? arr.v[0].arrival_ns : 0;
        for (size_t i = 0; i < arr.n; i++)
            arr.v[i].arrival_ns -= t0;
        r->arr = arr;
        r->sorted = true;
    }
    *out = &r->base;
    return LS_OK;
}

ls_status ls_trace_open(const char *path, const ls_trace_opts *opts, ls_source **out, ls_error *e)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ls_fail(e, LS_EIO, "%s: cannot open: %s", path, strerror(errno));
    return ls_trace_open_fd(fd, path, opts, out, e);
}
