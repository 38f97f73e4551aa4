/* cmd_run.c -- `llmsweep run` (being written). */
#include <stdio.h>

#include "cli.h"

int ls_cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    ls_cli_error("'run' is not available in this build yet");
    return LS_EXIT_ERROR;
}
