/* config_text.h -- for cmocka tests (include after <cmocka.h>): a run configuration from
 * YAML text against the built-in catalog. The text must parse (a test's own YAML is never the
 * input under test); the configuration may be refused, with the message in `e`. */
#ifndef LS_TEST_CONFIG_TEXT_H
#define LS_TEST_CONFIG_TEXT_H

#include <string.h>

#include "replay.h"
#include "yamldoc.h"

/* Load `text`, named `name` in messages ("pd.yaml:3: ..."). */
static inline ls_status test_config_text(const char *text, const char *name, ls_run_config **c, ls_error *e)
{
    ls_yaml *root;
    assert_int_equal(ls_yaml_load_string(text, strlen(text), name, &root, e), LS_OK);
    *c = NULL;
    ls_status rc = ls_config_load(root, NULL, NULL, c, e);
    ls_yaml_free(root);
    return rc;
}

/* Same, failing the test (with the message) when the configuration is refused. */
static inline ls_run_config *test_config(const char *text, const char *name)
{
    ls_run_config *c = NULL;
    ls_error e;
    if (test_config_text(text, name, &c, &e) != LS_OK) {
        print_error("%s\n", e.msg);
        fail();
    }
    return c;
}

#endif
