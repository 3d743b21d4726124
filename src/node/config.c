/* config.c: the node's configuration file, home/config.json (node.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "base/file.h"
#include "node/node.h"

#define CONFIG_MAX 65536

static void set_defaults(cv_node_config *cfg, const char *home)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->home, sizeof cfg->home, "%s", home);
    strcpy(cfg->rpc_listen, "127.0.0.1:8645");
    strcpy(cfg->p2p_listen, "127.0.0.1:26656");
    strcpy(cfg->genesis_file, "genesis.json");
    strcpy(cfg->key_file, "node.key");
    strcpy(cfg->data_dir, "data");
    cfg->mempool_max = 200000;
    cfg->rpc_max_body = 32u << 20;
    cfg->rpc_threads = 256;
    cfg->verify_threads = 0;
}

static int read_string(json_t *doc, const char *key, char *out, size_t cap)
{
    json_t *v = json_object_get(doc, key);
    if (!v)
        return CV_OK;
    const char *s = json_string_value(v);
    if (!s || strlen(s) == 0 || strlen(s) >= cap)
        return cv_fail(CV_EINVAL, "config: \"%s\" must be a non-empty string of at most %zu bytes", key, cap - 1);
    strcpy(out, s);
    return CV_OK;
}

static int read_uint(json_t *doc, const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(doc, key);
    if (!v)
        return CV_OK;
    json_int_t x = json_integer_value(v);
    if (!json_is_integer(v) || x < 0 || (uint64_t)x < min || (uint64_t)x > max)
        return cv_fail(CV_EINVAL, "config: \"%s\" must be an integer from %llu to %llu", key,
                       (unsigned long long)min, (unsigned long long)max);
    *out = (uint64_t)x;
    return CV_OK;
}

/* "peers": [{"addr": "host:port", "public_key": "hex"}, ...] */
static int read_peers(json_t *doc, cv_node_config *cfg)
{
    json_t *peers = json_object_get(doc, "peers");
    if (!peers)
        return CV_OK;
    if (!json_is_array(peers) || json_array_size(peers) > CV_NODE_PEERS_MAX)
        return cv_fail(CV_EINVAL, "config: \"peers\" must be an array of at most %d peers", CV_NODE_PEERS_MAX);
    for (size_t i = 0; i < json_array_size(peers); i++) {
        json_t *p = json_array_get(peers, i);
        const char *addr = json_string_value(json_object_get(p, "addr"));
        const char *key = json_string_value(json_object_get(p, "public_key"));
        cv_node_peer *out = &cfg->peers[i];
        if (!addr || !key || strlen(addr) >= sizeof out->addr || strlen(key) >= sizeof out->public_key)
            return cv_fail(CV_EINVAL, "config: peers[%zu] needs \"addr\" (host:port) and \"public_key\" (hex)", i);
        strcpy(out->addr, addr);
        strcpy(out->public_key, key);
    }
    cfg->npeers = json_array_size(peers);
    return CV_OK;
}

static int apply_doc(json_t *doc, cv_node_config *cfg)
{
    static const char *known[] = {"rpc_listen", "p2p_listen", "peers", "genesis_file", "key_file", "data_dir",
                                  "mempool_max", "rpc_max_body", "rpc_threads", "verify_threads"};
    const char *key;
    json_t *val;
    json_object_foreach(doc, key, val) {
        size_t i = 0;
        while (i < sizeof known / sizeof known[0] && strcmp(known[i], key) != 0)
            i++;
        if (i == sizeof known / sizeof known[0])
            return cv_fail(CV_EINVAL, "config: unknown setting \"%s\"", key);
    }
    uint64_t threads = cfg->rpc_threads, verify = cfg->verify_threads;
    int rc;
    if ((rc = read_string(doc, "rpc_listen", cfg->rpc_listen, sizeof cfg->rpc_listen)) ||
        (rc = read_string(doc, "p2p_listen", cfg->p2p_listen, sizeof cfg->p2p_listen)) ||
        (rc = read_peers(doc, cfg)) ||
        (rc = read_string(doc, "genesis_file", cfg->genesis_file, sizeof cfg->genesis_file)) ||
        (rc = read_string(doc, "key_file", cfg->key_file, sizeof cfg->key_file)) ||
        (rc = read_string(doc, "data_dir", cfg->data_dir, sizeof cfg->data_dir)) ||
        (rc = read_uint(doc, "mempool_max", 1, 10000000, &cfg->mempool_max)) ||
        (rc = read_uint(doc, "rpc_max_body", 1024, 1u << 30, &cfg->rpc_max_body)) ||
        (rc = read_uint(doc, "rpc_threads", 1, 4096, &threads)) ||
        (rc = read_uint(doc, "verify_threads", 0, 256, &verify)))
        return rc;
    cfg->rpc_threads = (unsigned)threads;
    cfg->verify_threads = (unsigned)verify;
    return CV_OK;
}

int cv_node_config_load(const char *home, cv_node_config *cfg)
{
    char path[1100];
    if (strlen(home) >= sizeof cfg->home)
        return cv_fail(CV_EINVAL, "home path too long");
    set_defaults(cfg, home);
    snprintf(path, sizeof path, "%s/config.json", home);
    cv_buf text = {0};
    int rc = cv_file_read(path, CONFIG_MAX, &text);
    if (rc == CV_EIO) {
        cv_buf_free(&text);
        return CV_OK; /* no config file: defaults */
    }
    json_error_t jerr;
    json_t *doc = rc ? NULL : json_loadb((const char *)text.data, text.len, JSON_REJECT_DUPLICATES, &jerr);
    cv_buf_free(&text);
    if (rc)
        return rc;
    if (!json_is_object(doc)) {
        json_decref(doc);
        return cv_fail(CV_EINVAL, "%s: not a JSON object (line %d: %s)", path, jerr.line, jerr.text);
    }
    rc = apply_doc(doc, cfg);
    json_decref(doc);
    return rc ? cv_fail(rc, "%s: %s", path, cv_errmsg()) : CV_OK;
}

int cv_node_config_write(const cv_node_config *cfg)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/config.json", cfg->home);
    json_t *peers = json_array();
    for (size_t i = 0; i < cfg->npeers; i++)
        json_array_append_new(peers, json_pack("{s:s, s:s}", "addr", cfg->peers[i].addr, "public_key",
                                               cfg->peers[i].public_key));
    json_t *doc = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:I, s:I, s:i, s:i}", "rpc_listen", cfg->rpc_listen,
                            "p2p_listen", cfg->p2p_listen, "peers", peers, "genesis_file", cfg->genesis_file,
                            "key_file", cfg->key_file, "data_dir", cfg->data_dir, "mempool_max",
                            (json_int_t)cfg->mempool_max, "rpc_max_body", (json_int_t)cfg->rpc_max_body,
                            "rpc_threads", (int)cfg->rpc_threads, "verify_threads", (int)cfg->verify_threads);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!text)
        return cv_fail(CV_ENOMEM, "out of memory writing %s", path);
    int rc = cv_file_write(path, text, strlen(text), 0644, 1);
    free(text);
    return rc;
}
