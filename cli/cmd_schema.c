/* cmd_schema.c -- `llmsweep schema` (being written). */
#include <stdio.h>

#include "cli.h"

int ls_cmd_schema(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    ls_cli_error("'schema' is not available in this build yet");
    return LS_EXIT_ERROR;
}
