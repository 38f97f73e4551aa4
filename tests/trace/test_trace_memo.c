/* test_trace_memo.c -- a replayed trace is the file read again: same requests, hash ids,
 * line numbers and report at every point; bad files and changed files are read again. */
#include "trace_test_util.h"

#include <sys/stat.h>
#include <time.h>
#include <utime.h>

#include "trace_memo.h"

/* A Mooncake file (hash ids) with a backwards timestamp within the tolerance. */
static const char *mooncake = "{\"timestamp\": 0, \"input_length\": 600, \"output_length\": 5, \"hash_ids\": [1, 2]}\n"
                              "{\"timestamp\": 10, \"input_length\": 100, \"output_length\": 7, \"hash_ids\": [3]}\n"
                              "{\"timestamp\": 9, \"input_length\": 1100, \"output_length\": 2, \"hash_ids\": [1, 4, 5]}\n"
                              "{\"timestamp\": 30, \"input_length\": 512, \"output_length\": 1, \"hash_ids\": [6]}\n";

typedef struct seen {
    ls_request r[8];
    int64_t ids[8][4];
    ls_source_report rep[9]; /* before each request, and at the end */
    int n;
} seen;

static void read_seen(ls_source *s, seen *v)
{
    ls_error e = {0};
    memset(v, 0, sizeof *v);
    for (;;) {
        ls_source_get_report(s, &v->rep[v->n]);
        ls_request r;
        memset(&r, 0, sizeof r); /* the padding too: the requests are compared whole */
        int rc = ls_source_next(s, &r, &e);
        assert_true(rc >= 0);
        if (rc == 0)
            break;
        assert_true(v->n < 8 && r.n_hash_ids <= 4);
        v->r[v->n] = r;
        memcpy(v->ids[v->n], r.hash_ids, r.n_hash_ids * sizeof *r.hash_ids); /* valid until the next call */
        v->r[v->n].hash_ids = NULL;
        v->n++;
    }
    ls_source_get_report(s, &v->rep[v->n]);
}

static void assert_same(const seen *a, const seen *b)
{
    assert_int_equal(a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        assert_memory_equal(&a->r[i], &b->r[i], sizeof a->r[i]);
        assert_memory_equal(a->ids[i], b->ids[i], sizeof a->ids[i]);
    }
    for (int i = 0; i <= a->n; i++)
        assert_memory_equal(&a->rep[i], &b->rep[i], sizeof a->rep[i]);
}

static void test_replay_same(void **state)
{
    (void)state;
    char *p = tmp_text(".jsonl", mooncake);
    ls_trace_opts o;
    ls_trace_opts_default(&o);
    ls_error e = {0};
    ls_source *direct, *first, *again;
    assert_int_equal(ls_trace_open(p, &o, &direct, &e), LS_OK);
    seen d, f, g;
    read_seen(direct, &d);
    ls_source_free(direct);
    assert_int_equal(d.n, 4);
    assert_int_equal(d.rep[d.n].clamped_backwards, 1); /* the file's own statistics, through the reader */
    assert_int_equal(d.rep[d.n].rows_read, 4);
    assert_memory_equal(d.ids[2], ((int64_t[]){1, 4, 5, 0}), 4 * sizeof(int64_t));
    assert_int_equal(ls_trace_memo_open(p, &o, &first, &e), LS_OK); /* read and recorded */
    read_seen(first, &f);
    ls_source_free(first);
    assert_int_equal(ls_trace_memo_open(p, &o, &again, &e), LS_OK); /* replayed */
    read_seen(again, &g);
    assert_same(&d, &f);
    assert_same(&d, &g);
    ls_source_free(again);
    /* other options are another entry: the failed-row flag shows in the report */
    o.burstgpt_keep_failed = true;
    assert_int_equal(ls_trace_memo_open(p, &o, &again, &e), LS_OK);
    read_seen(again, &g);
    ls_source_free(again);
    assert_true(g.rep[g.n].failed_kept);
    assert_false(d.rep[d.n].failed_kept);
    unlink(p);
    free(p);
}

/* A stream abandoned before its end is not kept; neither is a file with a bad row, whose
 * error is given again, with its line, on every open. */
static void test_partial_and_bad(void **state)
{
    (void)state;
    char *p = tmp_text(".csv", "arrival_s,prompt_tokens,output_tokens\n0,10,2\n1,20,3\n2,x,4\n");
    ls_error e = {0};
    for (int k = 0; k < 2; k++) {
        ls_source *s;
        assert_int_equal(ls_trace_memo_open(p, NULL, &s, &e), LS_OK);
        ls_request r;
        assert_int_equal(ls_source_next(s, &r, &e), 1);
        assert_int_equal(ls_source_next(s, &r, &e), 1);
        if (k == 0) { /* read to the bad row */
            assert_int_equal(ls_source_next(s, &r, &e), -1);
            assert_non_null(strstr(e.msg, ":4"));
        }
        ls_source_free(s);
    }
    unlink(p);
    free(p);
    /* read only in part: the next open reads the file (and sees it changed) */
    p = tmp_text(".csv", "arrival_s,prompt_tokens,output_tokens\n0,10,2\n1,20,3\n");
    ls_source *s;
    assert_int_equal(ls_trace_memo_open(p, NULL, &s, &e), LS_OK);
    ls_request r;
    assert_int_equal(ls_source_next(s, &r, &e), 1);
    ls_source_free(s);
    FILE *f = fopen(p, "a");
    assert_non_null(f);
    fputs("2,30,4\n", f);
    fclose(f);
    seen v;
    assert_int_equal(ls_trace_memo_open(p, NULL, &s, &e), LS_OK);
    read_seen(s, &v);
    ls_source_free(s);
    assert_int_equal(v.n, 3);
    unlink(p);
    free(p);
}

/* A file rewritten after it was kept (same path, new size and time) is read again. */
static void test_changed_file(void **state)
{
    (void)state;
    char *p = tmp_text(".csv", "arrival_s,prompt_tokens,output_tokens\n0,10,2\n1,20,3\n");
    ls_error e = {0};
    ls_source *s;
    seen v;
    assert_int_equal(ls_trace_memo_open(p, NULL, &s, &e), LS_OK);
    read_seen(s, &v);
    ls_source_free(s);
    assert_int_equal(v.n, 2);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("arrival_s,prompt_tokens,output_tokens\n0,11,2\n", f);
    fclose(f);
    struct utimbuf t = {time(NULL) + 5, time(NULL) + 5};
    assert_int_equal(utime(p, &t), 0);
    assert_int_equal(ls_trace_memo_open(p, NULL, &s, &e), LS_OK);
    read_seen(s, &v);
    ls_source_free(s);
    assert_int_equal(v.n, 1);
    assert_int_equal(v.r[0].prompt_tokens, 11);
    unlink(p);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_same),
        cmocka_unit_test(test_partial_and_bad),
        cmocka_unit_test(test_changed_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
