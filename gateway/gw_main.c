/* gw_main.c: the oss-gateway command line. */
#include <stdio.h>
#include <string.h>

#include "gw_cli.h"

static const char usage[] = "usage: oss-gateway -c FILE                 run the gateway in the foreground\n"
                            "       oss-gateway -t -c FILE              check the configuration and exit\n"
                            "       oss-gateway presign -c FILE [--route PREFIX] KEY\n"
                            "                                           print a presigned URL for KEY through a route\n"
                            "       oss-gateway presign --jsonl         sign JSON cases from stdin, one a line\n"
                            "       oss-gateway --version | --help\n";

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "presign") == 0) {
        return gw_cli_presign(argc - 2, argv + 2);
    }
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("oss-gateway %s\n", GW_VERSION);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    fputs(usage, stderr);
    return 2;
}
