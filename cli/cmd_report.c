/* cmd_report.c -- `llmsweep report` (being written). */
#include <stdio.h>

#include "cli.h"

int ls_cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    ls_cli_error("'report' is not available in this build yet");
    return LS_EXIT_ERROR;
}
