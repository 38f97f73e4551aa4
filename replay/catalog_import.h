/* catalog_import.h -- a catalog model entry from a Hugging Face config.json. */
#ifndef LS_CATALOG_IMPORT_H
#define LS_CATALOG_IMPORT_H

#include "error.h"

/* Read the config.json at `path` and write a catalog YAML document with one
 * model entry named `name` (NULL: from `_name_or_path`, lower-cased) into
 * *yaml_out (malloc'ed, caller frees). Fails naming the file and the field: a
 * JSON syntax error (file:line), an unsupported `model_type` (with the list of
 * supported ones), a missing or mistyped field, or a layout the catalog cannot
 * express (MoE only on every n-th layer, a shared expert of its own size). */
ls_status ls_catalog_import_hf(const char *path, const char *name, char **yaml_out, ls_error *e);

#endif
