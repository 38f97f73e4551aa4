/* cmd_trace.c -- `llmsweep trace` (being written). */
#include <stdio.h>

#include "cli.h"

int ls_cmd_trace(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    ls_cli_error("'trace' is not available in this build yet");
    return LS_EXIT_ERROR;
}
