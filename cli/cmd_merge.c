/* cmd_merge.c -- `llmsweep merge` (being written). */
#include <stdio.h>

#include "cli.h"

int ls_cmd_merge(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    ls_cli_error("'merge' is not available in this build yet");
    return LS_EXIT_ERROR;
}
