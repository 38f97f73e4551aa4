/* cmd_plot.c -- `llmsweep plot` (being written). */
#include <stdio.h>

#include "cli.h"

int ls_cmd_plot(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    ls_cli_error("'plot' is not available in this build yet");
    return LS_EXIT_ERROR;
}
