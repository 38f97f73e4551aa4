/* catalog_image.h -- the built-in catalog as the build parsed it (internal to replay/).
 *
 * replay/gen/catalog_image.c, a build-time tool, parses the built-in YAML text
 * (catalog_data.c, catalog_data_2026.c) with the code every user catalog goes
 * through and writes the resulting ls_model, ls_gpu and ls_cluster arrays, byte
 * for byte, into catalog_image_data.c in the build tree; ls_catalog_builtin copies
 * them instead of parsing at every start. The structs hold no pointers (names and
 * sources are arrays), so their bytes are the whole value. tests/replay/test_catalog.c
 * checks the image against a fresh parse. */
#ifndef LS_CATALOG_IMAGE_H
#define LS_CATALOG_IMAGE_H

#include <stddef.h>

typedef struct ls_catalog_image {
    int n_models, n_gpus, n_clusters;
    size_t model_size, gpu_size, cluster_size; /* sizeof of each struct where the image was made */
    const void *models, *gpus, *clusters;     /* n_models x model_size bytes, ... */
} ls_catalog_image;

extern const ls_catalog_image ls_catalog_builtin_image;

#endif
