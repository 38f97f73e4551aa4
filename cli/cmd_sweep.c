/* cmd_sweep.c -- `llmsweep sweep` (being written). */
#include <stdio.h>

#include "cli.h"

int ls_cmd_sweep(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    ls_cli_error("'sweep' is not available in this build yet");
    return LS_EXIT_ERROR;
}
