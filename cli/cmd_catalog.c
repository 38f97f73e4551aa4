/* cmd_catalog.c -- `llmsweep catalog` (being written). */
#include <stdio.h>

#include "cli.h"

int ls_cmd_catalog(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    ls_cli_error("'catalog' is not available in this build yet");
    return LS_EXIT_ERROR;
}
