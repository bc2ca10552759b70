/* gw_cli.h: the subcommands of the oss-gateway binary besides running the server. */
#ifndef GW_CLI_H
#define GW_CLI_H

#include <stdio.h>

/* gw_cli_presign runs `oss-gateway presign ...` with the arguments after "presign"; returns the exit status. */
int gw_cli_presign(int argc, char **argv);

/* gw_cli_presign_jsonl reads signing cases, one JSON object a line, from `in` and writes one result line each to `out`:
 * {"id":...,"url":...} or {"id":...,"error":...}. Returns 0 when every line signed, 1 when any failed, 2 on I/O errors. */
int gw_cli_presign_jsonl(FILE *in, FILE *out);

#endif
