/* test_reader.c -- every reader on fixtures of our own, good and bad. */
#include <math.h>

#include "trace_test_util.h"

static void check_req(const ls_request *r, int64_t t, int32_t p, int32_t o)
{
    assert_int_equal(r->arrival_ns, t);
    assert_int_equal(r->prompt_tokens, p);
    assert_int_equal(r->output_tokens, o);
}

static ls_request_array read_ok(const char *text, int gz, const ls_trace_opts *o, ls_trace_format want)
{
    char *p = tmp_file(".csv", text, strlen(text), gz);
    ls_source *s;
    ls_error e;
    ls_status st = ls_trace_open(p, o, &s, &e);
    if (st != LS_OK)
        fail_msg("%s", e.msg);
    assert_int_equal(ls_trace_source_format(s), want);
    ls_request_array a;
    if (ls_source_collect(s, 0, &a, &e) != LS_OK)
        fail_msg("%s", e.msg);
    ls_source_free(s);
    unlink(p);
    free(p);
    return a;
}

static void test_native(void **state)
{
    (void)state;
    /* extra columns allowed; times exact to the nanosecond and relative to the first row */
    const char *t = "arrival_s,prompt_tokens,output_tokens,note\n"
                    "10,100,20,a\n10.000000001,5,1,b\n12.5,7,3,c\n";
    for (int gz = 0; gz < 2; gz++) {
        ls_request_array a = read_ok(t, gz, NULL, LS_FMT_NATIVE);
        assert_int_equal(a.n, 3);
        check_req(&a.v[0], 0, 100, 20);
        check_req(&a.v[1], 1, 5, 1);
        check_req(&a.v[2], 2500000000LL, 7, 3);
        assert_int_equal(a.v[2].line, 4);
        assert_int_equal(a.v[0].session_id, -1);
        ls_request_array_free(&a);
    }
    /* session and hash columns */
    ls_request_array a = read_ok("arrival_s,prompt_tokens,output_tokens,session_id,hash_ids\n"
                                 "0,1024,5,7,1 2\n1e-3,600,5,8,\n2,1,1,-1,\n3,1,1,,\n", 0, NULL, LS_FMT_NATIVE);
    assert_int_equal(a.n, 4);
    assert_int_equal(a.v[2].session_id, -1);
    assert_int_equal(a.v[3].session_id, -1);
    assert_int_equal(a.v[0].session_id, 7);
    assert_int_equal(a.v[0].n_hash_ids, 2);
    assert_int_equal(a.v[0].hash_ids[1], 2);
    assert_int_equal(a.v[1].arrival_ns, 1000000);
    assert_int_equal(a.v[1].n_hash_ids, 0);
    ls_request_array_free(&a);
}

/* Native hash_ids follow Mooncake's rules: ceil(prompt/512) ids >= 0, or none. */
static void test_native_hash_ids(void **state)
{
    (void)state;
    const char *h = "arrival_s,prompt_tokens,output_tokens,hash_ids\n0,513,1,4 5\n";
    char buf[256];
    snprintf(buf, sizeof buf, "%s1,1025,1,4 5\n", h);
    const char *const shorter[] = {":3:", "column 4 (hash_ids)", "2 hash ids for 1025 prompt tokens",
                                   "expected ceil(prompt_tokens/512) = 3", NULL};
    expect_error(buf, strlen(buf), 0, NULL, shorter);
    snprintf(buf, sizeof buf, "%s1,512,1,4 5\n", h);
    const char *const longer[] = {":3:", "2 hash ids for 512 prompt tokens", "= 1", NULL};
    expect_error(buf, strlen(buf), 1, NULL, longer);
    snprintf(buf, sizeof buf, "%s1,10,1,-2\n", h);
    const char *const neg[] = {":3:", "negative hash id", NULL};
    expect_error(buf, strlen(buf), 0, NULL, neg);
    ls_trace_opts o;
    ls_trace_opts_default(&o);
    o.mooncake_any_hash_count = true;
    snprintf(buf, sizeof buf, "%s1,1025,1,4 5\n", h);
    ls_request_array a = read_ok(buf, 0, &o, LS_FMT_NATIVE);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.v[1].n_hash_ids, 2);
    ls_request_array_free(&a);
}

static void test_azure(void **state)
{
    (void)state;
    /* 2023: CRLF, 7 fractional digits, no final newline */
    const char *t23 = "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
                      "2023-11-16 18:17:03.9799600,4808,10\r\n"
                      "2023-11-16 18:17:04.0319600,3180,8\r\n"
                      "2023-11-16 18:17:04.0781490,110,27";
    ls_request_array a = read_ok(t23, 0, NULL, LS_FMT_AZURE);
    assert_int_equal(a.n, 3);
    check_req(&a.v[0], 0, 4808, 10);
    check_req(&a.v[1], 52000000, 3180, 8);
    check_req(&a.v[2], 98189000, 110, 27);
    ls_request_array_free(&a);
    /* 2024: +00:00, sometimes without a fraction; crosses midnight and a month end */
    const char *t24 = "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                      "2024-05-31 23:59:59.5+00:00,10,2\n"
                      "2024-06-01 00:00:00+00:00,11,3\n"
                      "2024-06-01 02:00:01.25+02:00,12,4\n";
    a = read_ok(t24, 1, NULL, LS_FMT_AZURE);
    assert_int_equal(a.n, 3);
    check_req(&a.v[0], 0, 10, 2);
    check_req(&a.v[1], 500000000, 11, 3);
    check_req(&a.v[2], 1750000000, 12, 4);
    ls_request_array_free(&a);
}

static void test_vidur_and_lengths(void **state)
{
    (void)state;
    ls_request_array a = read_ok("arrived_at,num_prefill_tokens,num_decode_tokens\n"
                                 "0.0,4808,10\n0.052,3180,8\n5e-01,1,1\n3.1234567891,2,2\n",
                                 0, NULL, LS_FMT_VIDUR);
    assert_int_equal(a.n, 4);
    check_req(&a.v[1], 52000000, 3180, 8);
    check_req(&a.v[2], 500000000, 1, 1);
    check_req(&a.v[3], 3123456789, 2, 2); /* the 10th digit rounds */
    ls_request_array_free(&a);
    ls_source *s;
    ls_error e;
    char *p = tmp_text(".csv", "num_prefill_tokens,num_decode_tokens,num_total_tokens,pd_ratio\n"
                               "3772,54,3826,69.85185185185185\n2015,156,2171,12.916666666666666\n");
    assert_int_equal(ls_trace_open(p, NULL, &s, &e), LS_OK);
    assert_int_equal(ls_trace_source_format(s), LS_FMT_LENGTHS);
    assert_int_equal(ls_source_collect(s, 0, &a, &e), LS_OK);
    assert_int_equal(a.n, 2);
    check_req(&a.v[1], 0, 2015, 156);
    ls_source_report rep;
    ls_source_get_report(s, &rep);
    assert_false(rep.has_times);
    assert_string_equal(rep.format, "lengths");
    ls_source_free(s);
    ls_request_array_free(&a);
    unlink(p);
    free(p);
}

static void test_burstgpt(void **state)
{
    (void)state;
    const char *old = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
                      "5,ChatGPT,472,18,490,Conversation log\n"
                      "45,ChatGPT,1087,0,1087,Conversation log\n"
                      "118,GPT-4,417,276,693,API log\n"
                      "120,GPT-4,0,0,0,API log\n";
    ls_trace_opts o;
    ls_trace_opts_default(&o);
    for (int keep = 0; keep < 2; keep++) {
        o.burstgpt_keep_failed = keep;
        char *p = tmp_text(".csv", old);
        ls_source *s;
        ls_error e;
        ls_request_array a;
        assert_int_equal(ls_trace_open(p, &o, &s, &e), LS_OK);
        assert_int_equal(ls_trace_source_format(s), LS_FMT_BURSTGPT);
        assert_int_equal(ls_source_collect(s, 0, &a, &e), LS_OK);
        ls_source_report rep;
        ls_source_get_report(s, &rep);
        assert_int_equal(rep.failed_seen, 2); /* counted and reported either way */
        assert_int_equal(rep.rows_read, 4);
        assert_int_equal(a.n, keep ? 4 : 2);
        check_req(&a.v[0], 0, 472, 18);
        if (keep)
            check_req(&a.v[1], 40000000000LL, 1087, 0);
        else
            check_req(&a.v[1], 113000000000LL, 417, 276);
        char *txt = ls_source_report_text(&rep);
        assert_non_null(strstr(txt, "2 failed requests"));
        free(txt);
        ls_source_free(s);
        ls_request_array_free(&a);
        unlink(p);
        free(p);
    }
    /* the newer variant: Session ID and Elapsed time, float timestamps */
    ls_request_array a = read_ok("Timestamp,Session ID,Elapsed time,Model,Request tokens,Response tokens,"
                                 "Total tokens,Log Type\n"
                                 "19440110.0,1234,2.5,GPT-4,100,20,120,Conversation log\n"
                                 "19440111.5,1235,1.0,ChatGPT,50,10,60,API log\n",
                                 0, NULL, LS_FMT_BURSTGPT);
    assert_int_equal(a.n, 2);
    check_req(&a.v[1], 1500000000, 50, 10);
    assert_int_equal(a.v[0].session_id, 1234);
    ls_request_array_free(&a);
}

static void test_mooncake(void **state)
{
    (void)state;
    const char *t = "{\"timestamp\": 27000, \"input_length\": 1100, \"output_length\": 52, \"hash_ids\": [0, 1, 2]}\n"
                    "{\"timestamp\": 27000, \"input_length\": 600, \"output_length\": 7, \"hash_ids\": [0, 3]}\n"
                    "{\"timestamp\": 30000, \"input_length\": 10, \"output_length\": 1, \"hash_ids\": [4]}\n";
    ls_trace_opts o;
    ls_trace_opts_default(&o);
    for (int sort = 0; sort < 2; sort++) {
        o.sort = sort;
        ls_request_array a = read_ok(t, sort, &o, LS_FMT_MOONCAKE);
        assert_int_equal(a.n, 3);
        /* ties keep file order */
        check_req(&a.v[0], 0, 1100, 52);
        check_req(&a.v[1], 0, 600, 7);
        check_req(&a.v[2], 3000000000LL, 10, 1);
        assert_int_equal(a.v[0].line, 1);
        assert_int_equal(a.v[1].line, 2);
        assert_int_equal(a.v[0].n_hash_ids, 3);
        assert_int_equal(a.v[1].hash_ids[1], 3);
        assert_int_equal(a.v[2].hash_ids[0], 4);
        ls_request_array_free(&a);
    }
}

/* The fixtures in tests/trace/regress: a negative id is always an error; a list of the wrong length (line 3:
 * 1025 tokens need 3 blocks, it has 2) is an error unless mooncake_any_hash_count accepts it. */
static void test_mooncake_hash_fixtures(void **state)
{
    (void)state;
    const char *src = getenv("LS_SOURCE_DIR");
    char neg[1024], cnt[1024];
    snprintf(neg, sizeof neg, "%s/tests/trace/regress/mooncake-negative-hash.jsonl", src ? src : ".");
    snprintf(cnt, sizeof cnt, "%s/tests/trace/regress/mooncake-hash-count.jsonl", src ? src : ".");
    if (access(neg, R_OK) || access(cnt, R_OK))
        skip();
    ls_trace_opts o;
    ls_trace_opts_default(&o);
    ls_request_array a;
    ls_error e;
    for (int lenient = 0; lenient < 2; lenient++) {
        o.mooncake_any_hash_count = lenient;
        assert_int_not_equal(read_all(neg, &o, &a, &e), LS_OK);
        assert_non_null(strstr(e.msg, "mooncake-negative-hash.jsonl:2: field 'hash_ids': item 1: negative id -3"));
    }
    o.mooncake_any_hash_count = false;
    assert_int_not_equal(read_all(cnt, &o, &a, &e), LS_OK);
    assert_non_null(strstr(e.msg, "mooncake-hash-count.jsonl:3: field 'hash_ids': 2 ids for input_length 1025: "
                                  "expected ceil(input_length/512) = 3"));
    o.mooncake_any_hash_count = true;
    assert_int_equal(read_all(cnt, &o, &a, &e), LS_OK);
    assert_int_equal(a.n, 3);
    assert_int_equal(a.v[2].n_hash_ids, 2);
    assert_int_equal(a.v[2].hash_ids[1], 1);
    ls_request_array_free(&a);
}

static void test_backwards_and_sort(void **state)
{
    (void)state;
    const char *t = "arrival_s,prompt_tokens,output_tokens\n1,1,1\n3,2,2\n2,3,3\n";
    const char *const n1[] = {":4:", "goes back 1.000000 s", "tolerance", "sort", NULL};
    expect_error(t, strlen(t), 0, NULL, n1);
    /* sorted on request, file order kept for ties */
    ls_trace_opts o;
    ls_trace_opts_default(&o);
    o.sort = true;
    ls_request_array a = read_ok(t, 0, &o, LS_FMT_NATIVE);
    check_req(&a.v[0], 0, 1, 1);
    check_req(&a.v[1], 1000000000, 3, 3);
    check_req(&a.v[2], 2000000000, 2, 2);
    ls_request_array_free(&a);
    /* within the 1 ms tolerance: clamped and counted */
    const char *j = "arrival_s,prompt_tokens,output_tokens\n1,1,1\n1.0005,2,2\n1.0001,3,3\n";
    char *p = tmp_text(".csv", j);
    ls_source *s;
    ls_error e;
    assert_int_equal(ls_trace_open(p, NULL, &s, &e), LS_OK);
    assert_int_equal(ls_source_collect(s, 0, &a, &e), LS_OK);
    check_req(&a.v[2], 500000, 3, 3);
    ls_source_report rep;
    ls_source_get_report(s, &rep);
    assert_int_equal(rep.clamped_backwards, 1);
    ls_source_free(s);
    ls_request_array_free(&a);
    unlink(p);
    free(p);
}

static void test_bad_csv(void **state)
{
    (void)state;
    const char *h = "arrival_s,prompt_tokens,output_tokens\n";
    char buf[512];
#define BAD(row, ...)                                                   \
    do {                                                                \
        snprintf(buf, sizeof buf, "%s0,1,1\n%s", h, row);               \
        const char *const nd[] = {__VA_ARGS__, NULL};                   \
        expect_error(buf, strlen(buf), 0, NULL, nd);                    \
        expect_error(buf, strlen(buf), 1, NULL, nd);                    \
    } while (0)
    BAD("1,2\n", ":3:", "missing column", "expected 3 fields");
    BAD("1,2,3,4\n", ":3:", "extra column");
    BAD("1,abc,3\n", ":3:", "column 2 (prompt_tokens)", "non-negative integer", "'abc'");
    BAD("1,2,-3\n", ":3:", "column 3 (output_tokens)", "non-negative");
    BAD("1,99999999999,3\n", ":3:", "column 2", "too large");
    BAD("1,,3\n", ":3:", "column 2", "empty");
    BAD("x1,2,3\n", ":3:", "column 1 (arrival_s)", "seconds");
    BAD("1,2,3\n\n2,2,2\n", ":4:", "blank line");
    BAD("1,2,3.5\n", ":3:", "column 3");
#undef BAD
    const char *az = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9799600,1,1\n"
                     "2023-13-16 18:17:03.9799600,1,1\n";
    const char *const n1[] = {":3:", "column 1 (TIMESTAMP)", "date-time", "2023-13-16", NULL};
    expect_error(az, strlen(az), 0, NULL, n1);
    const char *feb = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-02-29 00:00:00,1,1\n";
    const char *const n2[] = {":2:", "date-time", NULL};
    expect_error(feb, strlen(feb), 0, NULL, n2);
}

static void test_bad_files(void **state)
{
    (void)state;
    const char *const empty[] = {"empty file", NULL};
    expect_error("", 0, 0, NULL, empty);
    expect_error("", 0, 1, NULL, empty);
    const char binary[] = "\x7f" "ELF\x02\x01\x01\x00\x00\x00\n\x00\x01";
    const char *const bin[] = {"binary", NULL};
    expect_error(binary, sizeof binary - 1, 0, NULL, bin);
    const char *const hdr[] = {":1:", "unrecognised header", "expected one of", NULL};
    expect_error("a,b,c\n1,2,3\n", 12, 0, NULL, hdr);
    /* a forced format whose columns are missing */
    ls_trace_opts o;
    ls_trace_opts_default(&o);
    o.format = LS_FMT_AZURE;
    const char *const forced[] = {":1:", "TIMESTAMP", "azure", NULL};
    const char *nat = "arrival_s,prompt_tokens,output_tokens\n0,1,1\n";
    expect_error(nat, strlen(nat), 0, &o, forced);
    /* an over-long line */
    size_t big = LS_TRACE_MAX_LINE + 100;
    char *t = malloc(big + 64);
    int k = sprintf(t, "arrival_s,prompt_tokens,output_tokens\n0,1,");
    memset(t + k, '7', big);
    const char *const longl[] = {":2:", "longer than", NULL};
    expect_error(t, (size_t)k + big, 0, NULL, longl);
    free(t);
    /* a truncated gzip stream: cut a valid .gz file in half */
    size_t n = 200000;
    char *rows = malloc(n * 24 + 64), *q = rows;
    q += sprintf(q, "arrival_s,prompt_tokens,output_tokens\n");
    for (size_t i = 0; i < n; i++)
        q += sprintf(q, "%zu.%03zu,%zu,%zu\n", i, i % 1000, (i * 7919) % 5000, (i * 31) % 700);
    char *gzp = tmp_file(".csv.gz", rows, (size_t)(q - rows), 1);
    FILE *f = fopen(gzp, "rb");
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *gzdata = malloc((size_t)sz);
    assert_int_equal(fread(gzdata, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    const char *const trunc[] = {"gzip", "truncated", NULL};
    expect_error(gzdata, (size_t)sz / 2, 0, NULL, trunc);
    /* and just the gzip trailer missing */
    expect_error(gzdata, (size_t)sz - 4, 0, NULL, trunc);
    free(gzdata);
    unlink(gzp);
    free(gzp);
    free(rows);
    /* missing file */
    ls_source *s;
    ls_error e;
    assert_int_equal(ls_trace_open("/nonexistent/x.csv", NULL, &s, &e), LS_EIO);
    assert_non_null(strstr(e.msg, "/nonexistent/x.csv"));
}

static void test_bad_json(void **state)
{
    (void)state;
    const char *ok = "{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [0]}\n";
    char buf[512];
#define BADJ(line, ...)                                            \
    do {                                                           \
        snprintf(buf, sizeof buf, "%s%s\n", ok, line);             \
        const char *const nd[] = {__VA_ARGS__, NULL};              \
        expect_error(buf, strlen(buf), 0, NULL, nd);               \
    } while (0)
    BADJ("{\"timestamp\": 1, \"input_length\": 1,", ":2:", "invalid JSON");
    BADJ("[1, 2]", ":2:", "expected a JSON object");
    BADJ("{\"timestamp\": 1, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": 5}", ":2:",
         "hash_ids", "list of integers");
    BADJ("{\"timestamp\": 1, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [1, \"a\"]}", ":2:",
         "hash_ids", "item 1", "integer");
    BADJ("{\"timestamp\": 1, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [-4]}", ":2:",
         "hash_ids", "item 0", "negative id -4");
    /* one id per 512-token block: 1..512 tokens -> 1 id, 513 -> 2, 0 -> none */
    BADJ("{\"timestamp\": 1, \"input_length\": 513, \"output_length\": 1, \"hash_ids\": [1]}", ":2:",
         "hash_ids", "1 ids for input_length 513", "ceil(input_length/512) = 2");
    BADJ("{\"timestamp\": 1, \"input_length\": 512, \"output_length\": 1, \"hash_ids\": [1, 2]}", ":2:",
         "2 ids for input_length 512", "= 1");
    BADJ("{\"timestamp\": 1, \"input_length\": 10, \"output_length\": 1, \"hash_ids\": []}", ":2:",
         "0 ids for input_length 10", "= 1");
    BADJ("{\"timestamp\": 1, \"input_length\": 1.5, \"output_length\": 1}", ":2:", "input_length", "integer");
    BADJ("{\"timestamp\": 1, \"input_length\": -1, \"output_length\": 1}", ":2:", "input_length", "range");
    BADJ("{\"timestamp\": 1, \"input_length\": 1}", ":2:", "output_length", "missing");
    BADJ("{\"timestamp\": \"x\", \"input_length\": 1, \"output_length\": 1}", ":2:", "timestamp");
    BADJ("{\"timestamp\": 1, \"input_length\": 99999999999, \"output_length\": 1}", ":2:", "input_length");
#undef BADJ
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native),       cmocka_unit_test(test_native_hash_ids), cmocka_unit_test(test_azure),
        cmocka_unit_test(test_vidur_and_lengths), cmocka_unit_test(test_burstgpt),
        cmocka_unit_test(test_mooncake),     cmocka_unit_test(test_backwards_and_sort),
        cmocka_unit_test(test_bad_csv),      cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_bad_json),     cmocka_unit_test(test_mooncake_hash_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
