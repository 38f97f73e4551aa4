/* test_workload.c -- the workload API: validation, determinism, independent streams,
 * transformations and their reports, rate changes, canonical text. */
#include <math.h>

#include "trace_test_util.h"
#include "workload.h"
#include "writer.h"

static ls_workload *wl(const char *yaml)
{
    ls_yaml *y;
    ls_error e;
    assert_int_equal(ls_yaml_load_string(yaml, strlen(yaml), "w.yaml", &y, &e), LS_OK);
    ls_workload *w;
    if (ls_workload_parse(y, "workload", NULL, &w, &e) != LS_OK)
        fail_msg("%s", e.msg);
    ls_yaml_free(y);
    return w;
}

static void wl_fails(const char *yaml, const char *needle)
{
    ls_yaml *y;
    ls_error e;
    assert_int_equal(ls_yaml_load_string(yaml, strlen(yaml), "w.yaml", &y, &e), LS_OK);
    ls_workload *w = NULL;
    assert_int_not_equal(ls_workload_parse(y, "workload", NULL, &w, &e), LS_OK);
    assert_null(w);
    if (!strstr(e.msg, needle))
        fail_msg("'%s' lacks '%s'", e.msg, needle);
    if (!strstr(e.msg, "workload"))
        fail_msg("'%s' does not name the key path", e.msg);
    ls_yaml_free(y);
}

static ls_request_array collect(const ls_workload *w, uint64_t seed, ls_source_report *rep)
{
    ls_source *s;
    ls_error e;
    if (ls_workload_open(w, seed, &s, &e) != LS_OK)
        fail_msg("%s", e.msg);
    ls_request_array a;
    if (ls_source_collect(s, 0, &a, &e) != LS_OK)
        fail_msg("%s", e.msg);
    if (rep)
        ls_source_get_report(s, rep);
    ls_source_free(s);
    return a;
}

static const char *SYN = "{arrival: {process: poisson, rate: 5}, prompt_tokens: {dist: lognormal, mu: 8.7, "
                         "sigma: 0.17}, output_tokens: {dist: uniform, low: 10, high: 500}, duration_s: 60}";

static void test_determinism_and_streams(void **state)
{
    (void)state;
    ls_workload *w = wl(SYN);
    ls_request_array a = collect(w, 11, NULL), b = collect(w, 11, NULL), c = collect(w, 12, NULL);
    assert_true(a.n > 200 && a.n < 400); /* 300 expected */
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.v, b.v, a.n * sizeof *a.v);
    assert_true(c.n != a.n || c.v[1].arrival_ns != a.v[1].arrival_ns);
    for (size_t i = 1; i < a.n; i++)
        assert_true(a.v[i].arrival_ns >= a.v[i - 1].arrival_ns && a.v[i].arrival_ns < 60000000000LL);
    /* another output distribution: the same arrivals and prompts */
    ls_workload *w2 = wl("{arrival: {process: poisson, rate: 5}, prompt_tokens: {dist: lognormal, mu: 8.7, "
                         "sigma: 0.17}, output_tokens: {dist: zipf, s: 1.1, max: 2000}, duration_s: 60}");
    ls_request_array d = collect(w2, 11, NULL);
    assert_int_equal(d.n, a.n);
    int diff_out = 0;
    for (size_t i = 0; i < a.n; i++) {
        assert_int_equal(d.v[i].arrival_ns, a.v[i].arrival_ns);
        assert_int_equal(d.v[i].prompt_tokens, a.v[i].prompt_tokens);
        diff_out += d.v[i].output_tokens != a.v[i].output_tokens;
    }
    assert_true(diff_out > 0);
    /* another arrival rate: the same prompts, request by request */
    ls_workload *w3 = ls_workload_clone(w);
    ls_error e;
    assert_int_equal(ls_workload_set_rate(w3, 10, &e), LS_OK);
    ls_request_array f = collect(w3, 11, NULL);
    assert_true(f.n > a.n);
    for (size_t i = 0; i < a.n; i++)
        assert_int_equal(f.v[i].prompt_tokens, a.v[i].prompt_tokens);
    ls_workload_info info;
    ls_workload_info_get(w3, &info);
    assert_true(info.arrival_rate == 10);
    assert_true(fabs(info.expected_requests - 601) < 1e-9);
    assert_string_equal(info.arrival_process, "poisson");
    assert_string_equal(info.source, "synthetic");
    assert_string_equal(info.prompt_dist, "lognormal(mu=8.7,sigma=0.17)");
    assert_true(fabs(info.mean_prompt - 6090.3) < 0.5);
    char *c1 = ls_workload_canonical(w), *c3 = ls_workload_canonical(w3);
    assert_string_not_equal(c1, c3);
    ls_workload *w4 = wl("{output_tokens: {high: 500, low: 10, dist: uniform}, duration_s: 60.0, "
                         "prompt_tokens: {sigma: 0.17, mu: 8.70, dist: lognormal}, arrival: {rate: 5.0, "
                         "process: poisson}}");
    char *c4 = ls_workload_canonical(w4);
    assert_string_equal(c1, c4); /* key order and number spelling do not matter */
    free(c1);
    free(c3);
    free(c4);
    ls_request_array *arrs[] = {&a, &b, &c, &d, &f};
    for (int i = 0; i < 5; i++)
        ls_request_array_free(arrs[i]);
    ls_workload_free(w);
    ls_workload_free(w2);
    ls_workload_free(w3);
    ls_workload_free(w4);
}

static void test_validation(void **state)
{
    (void)state;
    wl_fails("{arrival: {process: poisson, rate: 5}, prompt_tokens: {dist: fixed, value: 3}, "
             "output_tokens: {dist: fixed, value: 3}}",
             "duration_s or max_requests");
    wl_fails("{arrival: {process: poisson, rate: 5}, prompt_tokens: {dist: fixed, value: 3}, max_requests: 4}",
             "output_tokens");
    wl_fails("{arrival: {process: poisson, rate: -5}, prompt_tokens: {dist: fixed, value: 3}, "
             "output_tokens: {dist: fixed, value: 3}, max_requests: 4}",
             "workload.arrival.rate");
    wl_fails("{arrival: {process: gamma, rate: 5}, prompt_tokens: {dist: fixed, value: 3}, "
             "output_tokens: {dist: fixed, value: 3}, max_requests: 4}",
             "cv");
    wl_fails("{arrival: {process: burst, rate: 5}}", "poisson, gamma, constant or trace");
    wl_fails("{trace: x.csv, bogus: 1}", "unknown key 'workload.bogus'");
    wl_fails("{trace: /nonexistent/trace.csv}", "cannot open");
    wl_fails("{arrival: {process: constant, rate: 1}, prompt_tokens: {dist: lognormal, mu: 8, stddev: 2}, "
             "output_tokens: {dist: fixed, value: 3}, max_requests: 4}",
             "exactly one pair");
    wl_fails("{arrival: {process: poisson, rate: 5}, prompt_tokens: {dist: fixed, value: 3}, "
             "output_tokens: {dist: fixed, value: 3}, max_requests: 4, target_rate: 3}",
             "only applies to a trace");
    wl_fails("{arrival: {process: poisson, rate: 5}, prompt_tokens: {dist: fixed, value: 3}, "
             "output_tokens: {dist: fixed, value: 3}, max_requests: 4, over_limit: clip}",
             "needs max_prompt_tokens");
    /* size cap (LS_WORKLOAD_MAX_REQUESTS = 1e8): 1e9/s x 1000 s = 1e12 requests is refused, naming the keys and
     * the numbers; max_requests bounds it; 1e5/s x 1000 s = 1e8 is exactly the cap and accepted */
    wl_fails("{arrival: {process: poisson, rate: 1e9}, duration_s: 1000, prompt_tokens: {dist: fixed, value: 3}, "
             "output_tokens: {dist: fixed, value: 3}}",
             "w.yaml:1: workload.duration_s: workload.arrival.rate 1e+09/s x workload.duration_s 1000 s = 1e+12 "
             "expected requests, above the cap of 1e+08");
    wl_fails("{arrival: {process: constant, rate: 2}, max_requests: 100000001, prompt_tokens: {dist: fixed, value: 3}, "
             "output_tokens: {dist: fixed, value: 3}}",
             "workload.max_requests: 100000001 requests is above the cap of 1e+08");
    ls_workload_free(wl("{arrival: {process: poisson, rate: 1e9}, duration_s: 1000, max_requests: 1000, "
                        "prompt_tokens: {dist: fixed, value: 3}, output_tokens: {dist: fixed, value: 3}}"));
    ls_workload_free(wl("{arrival: {process: poisson, rate: 1e5}, duration_s: 1000, "
                        "prompt_tokens: {dist: fixed, value: 3}, output_tokens: {dist: fixed, value: 3}}"));
    char *lens = tmp_text(".csv", "num_prefill_tokens,num_decode_tokens\n10,1\n20,2\n");
    char y[512];
    snprintf(y, sizeof y, "{trace: %s}", lens);
    wl_fails(y, "add an arrival process");
    unlink(lens);
    free(lens);
    char *bad = tmp_text(".csv", "arrival_s,prompt_tokens,output_tokens\n0,1,1\n1,x,1\n");
    snprintf(y, sizeof y, "{trace: %s}", bad);
    wl_fails(y, ":3: column 2");
    unlink(bad);
    free(bad);
}

static void test_trace_transforms(void **state)
{
    (void)state;
    /* 0..99 s, one request per second, prompt = 10 i, output = i */
    char text[8192], *q = text;
    q += sprintf(q, "arrival_s,prompt_tokens,output_tokens\n");
    for (int i = 0; i < 100; i++)
        q += sprintf(q, "%d,%d,%d\n", i, 10 * i + 1, i + 1);
    char *p = tmp_text(".csv", text);
    char y[1024];
    /* window [20, 50) -> 30 requests, re-based at 0; limit prompt 400 drops 40.. -> 20..39 kept */
    snprintf(y, sizeof y, "{trace: %s, start_s: 20, duration_s: 30, max_prompt_tokens: 400}", p);
    ls_workload *w = wl(y);
    ls_source_report rep;
    ls_request_array a = collect(w, 1, &rep);
    assert_int_equal(a.n, 20);
    assert_int_equal(a.v[0].arrival_ns, 0);
    assert_int_equal(a.v[0].prompt_tokens, 201);
    assert_int_equal(a.v[19].prompt_tokens, 391);
    assert_int_equal(rep.dropped_before_window, 20);
    assert_int_equal(rep.dropped_over_limit, 10);
    assert_true(rep.window_cut);
    ls_request_array_free(&a);
    ls_workload_free(w);
    /* clip instead, first 5, rescaled from 1/s to 4/s */
    snprintf(y, sizeof y, "{trace: %s, max_total_tokens: 100, over_limit: clip, max_requests: 5, target_rate: 4}",
             p);
    w = wl(y);
    a = collect(w, 1, &rep);
    assert_int_equal(a.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(a.v[i].arrival_ns, i * 250000000LL);
    assert_int_equal(a.v[4].prompt_tokens, 41);
    assert_int_equal(a.v[4].output_tokens, 5);
    assert_int_equal(rep.clipped_over_limit, 0);
    assert_true(rep.max_requests_cut);
    assert_true(fabs(rep.time_scale - 0.25) < 1e-12);
    ls_workload_info info;
    ls_workload_info_get(w, &info);
    assert_true(info.arrival_rate == 4);
    assert_true(info.expected_requests == 5);
    ls_error e;
    assert_int_equal(ls_workload_set_rate(w, 0.5, &e), LS_OK);
    ls_request_array_free(&a);
    a = collect(w, 1, NULL);
    assert_int_equal(a.v[4].arrival_ns, 8000000000LL);
    ls_request_array_free(&a);
    ls_workload_free(w);
    /* the first 50 s at twice the rate: 50 requests over 49 s -> factor 0.5, window 25 s as replayed */
    snprintf(y, sizeof y, "{trace: %s, duration_s: 50, target_rate: 2}", p);
    w = wl(y);
    ls_workload_info_get(w, &info);
    assert_true(fabs(info.duration_s - 25) < 1e-12);
    assert_true(info.expected_requests == 50);
    assert_true(isnan(info.arrival_cv));
    assert_string_equal(info.arrival_process, "trace");
    a = collect(w, 1, NULL);
    assert_int_equal(a.n, 50);
    assert_int_equal(a.v[49].arrival_ns, 24500000000LL);
    ls_request_array_free(&a);
    ls_workload_free(w);
    /* clip: prompt 991 + output 100 over a total of 500 -> prompt 499, output 1 */
    snprintf(y, sizeof y, "{trace: %s, max_total_tokens: 500, over_limit: clip}", p);
    w = wl(y);
    a = collect(w, 1, &rep);
    assert_int_equal(a.n, 100);
    assert_int_equal(a.v[99].prompt_tokens, 499);
    assert_int_equal(a.v[99].output_tokens, 1);
    assert_int_equal(a.v[45].output_tokens, 46); /* 451 + 46 = 497: under the limit */
    assert_int_equal(a.v[48].prompt_tokens, 481); /* 481 + 49 = 530: the output is cut to 19 */
    assert_int_equal(a.v[48].output_tokens, 19);
    assert_true(rep.clipped_over_limit > 0);
    ls_request_array_free(&a);
    ls_workload_free(w);
    /* the trace's lengths with Poisson times replacing its own; arrivals stop at duration_s */
    snprintf(y, sizeof y, "{trace: %s, arrival: {process: poisson, rate: 50}, duration_s: 1}", p);
    w = wl(y);
    a = collect(w, 3, &rep);
    assert_true(a.n > 20 && a.n < 85);
    assert_int_equal(a.v[3].prompt_tokens, 31);
    assert_true(rep.synthetic_arrivals);
    ls_workload_info_get(w, &info);
    assert_string_equal(info.prompt_dist, "trace");
    assert_true(info.expected_requests == 51);
    ls_request_array_free(&a);
    ls_workload_free(w);
    /* trace times with synthetic outputs */
    snprintf(y, sizeof y, "{trace: %s, arrival: {process: trace}, output_tokens: {dist: fixed, value: 7}}", p);
    w = wl(y);
    a = collect(w, 3, NULL);
    assert_int_equal(a.n, 100);
    assert_int_equal(a.v[10].arrival_ns, 10000000000LL);
    assert_int_equal(a.v[10].output_tokens, 7);
    assert_int_equal(a.v[10].prompt_tokens, 101);
    ls_request_array_free(&a);
    ls_workload_free(w);
    unlink(p);
    free(p);
}

static void test_empirical_pairs(void **state)
{
    (void)state;
    char *f = tmp_text(".csv", "num_prefill_tokens,num_decode_tokens\n100,1\n200,2\n300,3\n");
    char y[1024];
    snprintf(y, sizeof y, "{arrival: {process: constant, rate: 10}, max_requests: 500, "
                          "prompt_tokens: {dist: empirical, file: %s}, output_tokens: {dist: empirical, file: %s}}",
             f, f);
    ls_workload *w = wl(y);
    ls_request_array a = collect(w, 5, NULL);
    assert_int_equal(a.n, 500);
    for (size_t i = 0; i < a.n; i++)
        assert_int_equal(a.v[i].prompt_tokens, 100 * a.v[i].output_tokens);
    assert_int_equal(a.v[499].arrival_ns, 49900000000LL);
    ls_request_array_free(&a);
    ls_workload_free(w);
    unlink(f);
    free(f);
}

static void test_roundtrip(void **state)
{
    (void)state;
    /* Azure -> native .gz -> read back: the same requests to the nanosecond */
    const char *az = "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
                     "2023-11-16 18:17:03.9799600,4808,10\r\n2023-11-16 18:17:04.0319600,3180,8\r\n"
                     "2023-11-16 18:17:04.0781490,110,27\r\n2023-11-16 19:00:00.0000001,5,5";
    const char *js = "{\"timestamp\": 5, \"input_length\": 1100, \"output_length\": 52, \"hash_ids\": [0, 1, 2]}\n"
                     "{\"timestamp\": 5, \"input_length\": 600, \"output_length\": 7, \"hash_ids\": [0, 3]}\n"
                     "{\"timestamp\": 3006, \"input_length\": 0, \"output_length\": 1, \"hash_ids\": []}\n";
    const char *bg = "Timestamp,Session ID,Elapsed time,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
                     "19440110.0,1234,2.5,GPT-4,100,20,120,Conversation log\n"
                     "19440111.5,chat-9,1.0,ChatGPT,50,10,60,API log\n";
    const char *ins[] = {az, js, bg};
    const unsigned flags[] = {0, LS_WRITE_HASH_IDS, LS_WRITE_SESSION};
    for (int k = 0; k < 3; k++) {
        char *in = tmp_text(k == 1 ? ".jsonl" : ".csv", ins[k]);
        ls_request_array a, b;
        ls_error e;
        assert_int_equal(read_all(in, NULL, &a, &e), LS_OK);
        char out[256];
        snprintf(out, sizeof out, "%s.native.csv.gz", in);
        ls_source *s = ls_source_from_array(&a);
        uint64_t rows;
        assert_int_equal(ls_trace_write_source(s, out, flags[k], &rows, &e), LS_OK);
        ls_source_free(s);
        assert_int_equal(rows, a.n);
        if (read_all(out, NULL, &b, &e) != LS_OK)
            fail_msg("%s", e.msg);
        assert_int_equal(a.n, b.n);
        for (size_t i = 0; i < a.n; i++) {
            assert_int_equal(a.v[i].arrival_ns, b.v[i].arrival_ns);
            assert_int_equal(a.v[i].prompt_tokens, b.v[i].prompt_tokens);
            assert_int_equal(a.v[i].output_tokens, b.v[i].output_tokens);
            assert_int_equal(a.v[i].n_hash_ids, b.v[i].n_hash_ids);
            assert_int_equal(a.v[i].session_id, b.v[i].session_id);
            for (uint32_t j = 0; j < a.v[i].n_hash_ids; j++)
                assert_int_equal(a.v[i].hash_ids[j], b.v[i].hash_ids[j]);
        }
        ls_request_array_free(&a);
        ls_request_array_free(&b);
        unlink(out);
        unlink(in);
        free(in);
    }
}


/* Multi-turn sessions (trace/session.c), by hand: constant arrivals at 1/s for 2.5 s open 3 sessions
 * (at 0, 1, 2 s) of 3 turns; prompts 600 new tokens, answers 100. Turn k's prompt is the history
 * plus 600 new tokens: 600, 1300, 2000, with ceil(P/512) = 2, 3, 4 hash ids; its full blocks keep
 * their ids from turn to turn (block 0 in turns 1-3, block 1 in turns 2-3), the partial last block
 * gets a fresh one. With a think time of 1000 s every first turn comes before any follow-up. */
static void test_sessions(void **state)
{
    (void)state;
    ls_workload *w = wl("{arrival: {process: constant, rate: 1}, prompt_tokens: {dist: fixed, value: 600}, "
                        "output_tokens: {dist: fixed, value: 100}, duration_s: 2.5, "
                        "sessions: {turns: 3, think_s: 1000}}");
    ls_workload_info info;
    ls_workload_info_get(w, &info);
    assert_true(fabs(info.mean_prompt - 1300) < 1e-9);  /* (600 + 1300 + 2000) / 3 */
    assert_true(fabs(info.expected_requests - 9) < 1e-9);
    assert_string_equal(info.prompt_dist, "sessions(3x,think=1000s)+fixed(value=600)");
    ls_request_array a = collect(w, 7, NULL);
    assert_int_equal(a.n, 9);
    int64_t first[3] = {-1, -1, -1}, seen_turns[3] = {0, 0, 0}, last_ns[3] = {-1, -1, -1};
    int64_t fresh[9];
    for (size_t i = 0; i < a.n; i++) {
        const ls_request *r = &a.v[i];
        assert_true(i == 0 || r->arrival_ns >= a.v[i - 1].arrival_ns);
        assert_true(r->session_id >= 0 && r->session_id < 3);
        int64_t sid = r->session_id, k = ++seen_turns[sid];  /* 1-based turn */
        if (i < 3) {  /* the first turns, in session order, at the constant arrivals */
            assert_int_equal(sid, (int64_t)i);
            assert_int_equal(r->arrival_ns, (int64_t)i * 1000000000);
        }
        assert_true(r->arrival_ns > last_ns[sid]);
        last_ns[sid] = r->arrival_ns;
        assert_int_equal(r->prompt_tokens, 600 * k + 100 * (k - 1));
        assert_int_equal(r->output_tokens, 100);
        assert_int_equal(r->n_hash_ids, (uint32_t)(k + 1));
        if (k == 1)
            first[sid] = r->hash_ids[0];
        assert_int_equal(r->hash_ids[0], first[sid]);  /* block 0: the same text in every turn */
        fresh[i] = r->hash_ids[k];                      /* the partial last block */
    }
    for (int sid = 0; sid < 3; sid++)
        assert_int_equal(seen_turns[sid], 3);
    /* block 1 of turn 3 is block 1 of turn 2; every partial block and every session's block 0 is unique */
    for (int sid = 0; sid < 3; sid++) {
        const ls_request *t2 = NULL, *t3 = NULL;
        for (size_t i = 0; i < a.n; i++)
            if (a.v[i].session_id == sid && a.v[i].n_hash_ids == 3)
                t2 = &a.v[i];
            else if (a.v[i].session_id == sid && a.v[i].n_hash_ids == 4)
                t3 = &a.v[i];
        assert_non_null(t2);
        assert_non_null(t3);
        assert_int_equal(t2->hash_ids[1], t3->hash_ids[1]);
        assert_int_not_equal(t3->hash_ids[2], t2->hash_ids[2]);  /* full now, partial before: new text */
    }
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < i; j++)
            assert_int_not_equal(fresh[i], fresh[j]);
    assert_int_not_equal(first[0], first[1]);
    assert_int_not_equal(first[1], first[2]);
    ls_request_array_free(&a);
    ls_workload_free(w);
    /* bad settings name the key */
    wl_fails("{arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 6}, output_tokens: "
             "{dist: fixed, value: 1}, duration_s: 5, sessions: {turns: 0, think_s: 5}}", "sessions.turns");
    wl_fails("{arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 6}, output_tokens: "
             "{dist: fixed, value: 1}, duration_s: 5, sessions: {turns: 2}}", "expected {turns: N, think_s: SECONDS}");
    wl_fails("{arrival: {process: poisson, rate: 1}, prompt_tokens: {dist: fixed, value: 6}, output_tokens: "
             "{dist: fixed, value: 1}, duration_s: 5, sessions: {turns: 2, think_s: 1}, "
             "shared_prefix: {prompts: 2, tokens: 512}}", "cannot be combined with shared_prefix");
    wl_fails("{trace: x.csv, sessions: {turns: 2, think_s: 1}}", "only for synthetic workloads");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism_and_streams), cmocka_unit_test(test_validation),
        cmocka_unit_test(test_trace_transforms),        cmocka_unit_test(test_empirical_pairs),
        cmocka_unit_test(test_roundtrip),               cmocka_unit_test(test_sessions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
