/* test_regress.c -- replay every file of tests/trace/regress (fuzz findings, edge cases) through every reader. */
#include <dirent.h>
#include <unistd.h>

#include "trace_test_util.h"

static int replay_one(const char *path, ls_trace_format f, bool sort)
{
    ls_trace_opts o;
    ls_trace_opts_default(&o);
    o.format = f;
    o.sort = sort;
    ls_source *s;
    ls_error e;
    memset(&e, 0, sizeof e);
    if (ls_trace_open(path, &o, &s, &e) != LS_OK) {
        if (!e.msg[0] || !strstr(e.msg, path))
            fail_msg("%s (%s): error without a message naming the file: '%s'", path, ls_trace_format_name(f), e.msg);
        return 0;
    }
    ls_request r;
    int rc, n = 0;
    int64_t prev = 0;
    while ((rc = ls_source_next(s, &r, &e)) == 1) {
        if ((n == 0 && r.arrival_ns != 0) || r.arrival_ns < prev || r.prompt_tokens < 0 || r.output_tokens < 0)
            fail_msg("%s (%s): broken stream at request %d", path, ls_trace_format_name(f), n);
        prev = r.arrival_ns;
        n++;
    }
    if (rc < 0 && !e.msg[0])
        fail_msg("%s: error without a message", path);
    ls_source_free(s);
    return n;
}

static void test_regress(void **state)
{
    (void)state;
    const char *src = getenv("LS_SOURCE_DIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/trace/regress", src ? src : ".");
    DIR *d = opendir(dir);
    if (!d)
        skip();
    int files = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !strcmp(de->d_name, "README.md"))
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        for (int f = LS_FMT_AUTO; f <= LS_FMT_MOONCAKE; f++)
            for (int sort = 0; sort < 2; sort++)
                replay_one(path, (ls_trace_format)f, sort);
        files++;
    }
    closedir(d);
    assert_true(files > 0);
}

/* header-only.csv (the sort-on-empty-file fuzz finding): a header with no data rows is an error, sorted or
 * not, never an empty stream. */
static void test_header_only_is_an_error(void **state)
{
    (void)state;
    const char *src = getenv("LS_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/trace/regress/header-only.csv", src ? src : ".");
    if (access(path, R_OK))
        skip();
    for (int sort = 0; sort < 2; sort++) {
        ls_trace_opts o;
        ls_trace_opts_default(&o);
        o.sort = sort;
        ls_source *s;
        ls_error e;
        memset(&e, 0, sizeof e);
        ls_status st = ls_trace_open(path, &o, &s, &e);
        if (st == LS_OK) {
            ls_request r;
            assert_int_equal(ls_source_next(s, &r, &e), -1);
            ls_source_free(s);
        }
        assert_non_null(strstr(e.msg, "header-only.csv: no data rows after the header"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_regress), cmocka_unit_test(test_header_only_is_an_error)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
