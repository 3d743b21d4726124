/* fuzz_config.c: libFuzzer target for the node's configuration file,
 * home/config.json (cv_node_config_load in node/node.h).
 *
 * Every input is written as config.json in a temporary home (made at the
 * first input, removed at exit) and loaded, which must succeed or fail with
 * CV_EINVAL. An accepted configuration, written back with
 * cv_node_config_write, must load again to the same settings. */
#include <unistd.h>

#include "fuzz_common.h"
#include "node/node.h"

static char home[] = "/tmp/cv-fuzz-config-XXXXXX";
static char path[sizeof home + 16];

static void remove_home(void)
{
    unlink(path);
    rmdir(home);
}

static int same_config(const cv_node_config *a, const cv_node_config *b)
{
    if (strcmp(a->rpc_listen, b->rpc_listen) != 0 || strcmp(a->p2p_listen, b->p2p_listen) != 0 ||
        strcmp(a->genesis_file, b->genesis_file) != 0 || strcmp(a->key_file, b->key_file) != 0 ||
        strcmp(a->data_dir, b->data_dir) != 0 || a->mempool_max != b->mempool_max ||
        a->rpc_max_body != b->rpc_max_body || a->rpc_threads != b->rpc_threads ||
        a->verify_threads != b->verify_threads || a->npeers != b->npeers)
        return 0;
    for (size_t i = 0; i < a->npeers; i++)
        if (strcmp(a->peers[i].addr, b->peers[i].addr) != 0 ||
            strcmp(a->peers[i].public_key, b->peers[i].public_key) != 0)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        FUZZ_REQUIRE(mkdtemp(home) != NULL);
        snprintf(path, sizeof path, "%s/config.json", home);
        atexit(remove_home);
    }
    FILE *f = fopen(path, "wb");
    FUZZ_REQUIRE(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);
    cv_node_config cfg, again;
    int rc = cv_node_config_load(home, &cfg);
    FUZZ_REQUIRE(rc == CV_OK || rc == CV_EINVAL);
    if (rc != CV_OK)
        return 0;
    unlink(path);
    FUZZ_REQUIRE(cv_node_config_write(&cfg) == CV_OK);
    FUZZ_REQUIRE(cv_node_config_load(home, &again) == CV_OK);
    FUZZ_REQUIRE(same_config(&cfg, &again));
    return 0;
}
