/* gw_main.c: the oss-gateway command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "cfg.h"
#include "gw_cli.h"
#include "gw_listen.h"
#include "gw_server.h"

static const char usage[] = "usage: oss-gateway -c FILE                 run the gateway in the foreground\n"
                            "       oss-gateway -t -c FILE              check the configuration and exit\n"
                            "       oss-gateway presign -c FILE [--route PREFIX] [--method GET|HEAD] KEY\n"
                            "                                           print a presigned URL for KEY through a route\n"
                            "       oss-gateway presign --jsonl         sign JSON cases from stdin, one a line\n"
                            "       oss-gateway --version | --help\n";

static int check_config(const char *path)
{
    struct cfg_config *cfg = NULL;
    struct cfg_error err;
    if (cfg_load_file(&cfg, path, NULL, &err) != CFG_OK || gw_listen_tls_check(cfg, err.msg, sizeof(err.msg)) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        fprintf(stderr, "oss-gateway: configuration %s test failed\n", path);
        cfg_free(cfg);
        return 1;
    }
    for (size_t i = 0; i < cfg->n_credentials; i++) {
        if (cfg->credentials[i].source != CFG_CRED_STATIC) {
            fprintf(stderr, "oss-gateway: credentials.%s: not fetched (-t checks the keys only)\n", cfg->credentials[i].name);
        }
    }
    fprintf(stderr, "oss-gateway: configuration %s is ok: %zu route(s), %zu backend(s)\n", path, cfg->n_routes, cfg->n_backends);
    cfg_free(cfg);
    return 0;
}

#if defined(__SANITIZE_ADDRESS__)
#define GW_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GW_UNDER_ASAN 1
#endif
#endif

/* no_core_dumps keeps secrets out of core files whatever the system's limits: no core, and not dumpable (which also
 * stops other processes of the same user from attaching to read memory). LeakSanitizer needs to attach to its own
 * threads, so sanitizer builds keep the process dumpable. */
static void no_core_dumps(void)
{
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0) {
        perror("oss-gateway: setrlimit(RLIMIT_CORE)");
    }
#ifndef GW_UNDER_ASAN
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        perror("oss-gateway: prctl(PR_SET_DUMPABLE)");
    }
#endif
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    int test = 0;

    no_core_dumps();

    if (argc >= 2 && strcmp(argv[1], "presign") == 0) {
        return gw_cli_presign(argc - 2, argv + 2);
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-v") == 0) {
            printf("oss-gateway %s\n", GW_VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(argv[i], "-t") == 0 || strcmp(argv[i], "--check-config") == 0) {
            test = 1;
        } else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc && config == NULL) {
            config = argv[++i];
        } else {
            fprintf(stderr, "oss-gateway: unexpected argument '%s'\n%s", argv[i], usage);
            return 2;
        }
    }
    if (config == NULL) {
        fputs(usage, stderr);
        return 2;
    }
    return test ? check_config(config) : gw_server_run(config);
}
