/* test_e2e_bft.c: four validator processes on loopback run one chain:
 * load flows and every node holds the same chain; with one node killed
 * (SIGKILL) the chain keeps committing and the node catches up after a
 * restart; with two of four killed the chain stops without forking and
 * resumes when they return; a node with another genesis, and a node whose
 * key is not a validator's, are refused by the others; a notary receipt
 * made through one node verifies offline once all are stopped, its block
 * certified by at least three of the four validators. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "node/node.h"

#include "check.h"
#include "harness.h"

#define NODES 4
#define BATCH 100

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Sends count stamps to node c in batches and waits for every receipt. */
static size_t load(e2e_chain *c, size_t count)
{
    uint64_t height;
    size_t committed = 0;
    if (e2e_height(c, &height) != CV_OK)
        return 0;
    for (size_t done = 0; done < count; done += BATCH) {
        uint8_t hashes[BATCH][CV_HASH_LEN];
        CHECK_OK(e2e_send_stamps(c, BATCH, "bft", height + 500, hashes));
        for (size_t i = 0; i < BATCH; i++) {
            json_t *res = NULL;
            if (e2e_call(c, "tx_wait", json_pack("{s:o, s:i}", "hash", e2e_hex(hashes[i], CV_HASH_LEN), "timeout_ms",
                                                 30000), &res) == CV_OK &&
                json_is_true(json_object_get(json_object_get(res, "receipt"), "ok")))
                committed++;
            json_decref(res);
        }
    }
    return committed;
}

/* Waits until node c reaches height (or 60 s pass); returns its height. */
static uint64_t wait_height(e2e_chain *c, uint64_t height)
{
    uint64_t h = 0;
    for (int i = 0; i < 600 && (e2e_height(c, &h) != CV_OK || h < height); i++)
        pause_ms(100);
    return h;
}

static void test_faults(e2e_chain *c)
{
    int alive[NODES] = {1, 1, 1, 1};
    uint64_t h;
    fprintf(stderr, "== load on 4 nodes\n");
    CHECK(load(&c[0], 600) == 600);
    CHECK(load(&c[2], 200) == 200);
    CHECK(e2e_same_chain(c, NODES, alive));

    fprintf(stderr, "== node 4 killed: the others go on\n");
    CHECK(e2e_stop(&c[3], SIGKILL) == 128 + SIGKILL);
    alive[3] = 0;
    CHECK(load(&c[1], 300) == 300);
    CHECK(e2e_same_chain(c, NODES, alive));

    fprintf(stderr, "== node 4 restarted: it catches up\n");
    CHECK_OK(e2e_start(&c[3]));
    alive[3] = 1;
    CHECK_OK(e2e_height(&c[0], &h));
    CHECK(wait_height(&c[3], h) >= h);
    CHECK(e2e_same_chain(c, NODES, alive));

    fprintf(stderr, "== nodes 3 and 4 killed: the chain stops without forking\n");
    CHECK(e2e_stop(&c[2], SIGKILL) == 128 + SIGKILL);
    CHECK(e2e_stop(&c[3], SIGKILL) == 128 + SIGKILL);
    alive[2] = alive[3] = 0;
    uint64_t before, after;
    pause_ms(1500); /* a block in flight may still land */
    CHECK_OK(e2e_height(&c[0], &before));
    pause_ms(4000);
    CHECK_OK(e2e_height(&c[0], &after));
    CHECK(after == before);
    CHECK(e2e_same_chain(c, NODES, alive));

    fprintf(stderr, "== nodes 3 and 4 restarted: the chain resumes\n");
    CHECK_OK(e2e_start(&c[2]));
    CHECK_OK(e2e_start(&c[3]));
    alive[2] = alive[3] = 1;
    CHECK(wait_height(&c[0], after + 2) >= after + 2);
    CHECK(load(&c[3], 200) == 200);
    CHECK(e2e_same_chain(c, NODES, alive));
}

/* Makes an outsider's home: a fresh node (its own key and genesis) whose
 * config dials every validator; for "key" it gets the chain's genesis, so
 * only its key is wrong. */
static int make_outsider(e2e_chain *c, const char *home, const char *what)
{
    cv_node_config mine, org1;
    char path[600], src[600];
    cv_buf genesis = {0};
    if (e2e_run(c[0].civitas, "init", "--home", home, "--chain-id", "e2e-chain", "--rpc-port", "1", (char *)NULL) != 0)
        return cv_fail(CV_EIO, "init of the outsider failed");
    int rc = cv_node_config_load(home, &mine);
    if (!rc)
        rc = cv_node_config_load(c[0].home, &org1);
    if (rc)
        return rc;
    mine.peers[0] = org1.peers[0]; /* org1 lists the other three; add org1 itself */
    mine.npeers = 0;
    for (size_t i = 0; i < org1.npeers; i++)
        mine.peers[mine.npeers++] = org1.peers[i];
    /* org1's own entry: the key of the validator that is not in its list. */
    snprintf(path, sizeof path, "%s/config.json", c[1].home);
    cv_node_config org2;
    if ((rc = cv_node_config_load(c[1].home, &org2)))
        return rc;
    for (size_t i = 0; i < org2.npeers; i++)
        if (strcmp(org2.peers[i].addr, org1.p2p_listen) == 0)
            mine.peers[mine.npeers++] = org2.peers[i];
    strcpy(mine.p2p_listen, "127.0.0.1:0");
    strcpy(mine.rpc_listen, "127.0.0.1:0");
    snprintf(path, sizeof path, "%s/config.json", home);
    unlink(path);
    if ((rc = cv_node_config_write(&mine)))
        return rc;
    if (strcmp(what, "key") != 0)
        return CV_OK;
    snprintf(src, sizeof src, "%s/genesis.json", c[0].home);
    snprintf(path, sizeof path, "%s/genesis.json", home);
    if (!(rc = cv_file_read(src, 1 << 20, &genesis)))
        rc = cv_file_write(path, genesis.data, genesis.len, 0644, 0);
    cv_buf_free(&genesis);
    return rc;
}

/* An outsider node dials the validators for 3 s: they must refuse it, so
 * each still counts exactly the other validators as peers. */
static void test_outsider(e2e_chain *c, const char *dir, const char *what)
{
    char home[300];
    snprintf(home, sizeof home, "%s/outsider-%s", dir, what);
    CHECK_OK(make_outsider(c, home, what));
    e2e_chain o;
    memset(&o, 0, sizeof o);
    o.civitas = c[0].civitas;
    memcpy(o.home, home, sizeof o.home - 1);
    pid_t pid = fork();
    if (pid == 0) {
        execl(o.civitas, o.civitas, "node", "--home", home, (char *)NULL);
        _exit(127);
    }
    pause_ms(3000); /* it dials every validator meanwhile, with backoff */
    for (int i = 0; i < NODES; i++) {
        json_t *st = NULL;
        CHECK_OK(e2e_call(&c[i], "status", json_object(), &st));
        CHECK(json_integer_value(json_object_get(st, "peers")) == NODES - 1);
        json_decref(st);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    fprintf(stderr, "  outsider with %s refused by every validator\n",
            strcmp(what, "key") == 0 ? "a key that is not a validator's" : "another genesis");
}

/* The validators node c reports for height: their set's hash, the height
 * the set took effect at, the power of the validator with key_hex in it
 * and the total. */
static int validators_at(e2e_chain *c, uint64_t height, const char *key_hex, char hash[2 * CV_HASH_LEN + 1],
                         uint64_t *from, uint64_t *power, uint64_t *total)
{
    json_t *res = NULL;
    int rc = e2e_call(c, "validators", json_pack("{s:I}", "height", (json_int_t)height), &res);
    if (rc)
        return rc;
    snprintf(hash, 2 * CV_HASH_LEN + 1, "%s", json_string_value(json_object_get(res, "hash")));
    *from = (uint64_t)json_integer_value(json_object_get(res, "from_height"));
    *total = (uint64_t)json_integer_value(json_object_get(res, "total_power"));
    *power = 0;
    json_t *v;
    size_t i;
    json_array_foreach (json_object_get(res, "validators"), i, v)
        if (strcmp(json_string_value(json_object_get(v, "public_key")), key_hex) == 0)
            *power = (uint64_t)json_integer_value(json_object_get(v, "power"));
    json_decref(res);
    return CV_OK;
}

/* A header field (hex) of the block at height, from node c. */
static int header_field(e2e_chain *c, uint64_t height, const char *field, char out[2 * CV_HASH_LEN + 1])
{
    json_t *res = NULL;
    int rc = e2e_call(c, "block_get", json_pack("{s:I}", "height", (json_int_t)height), &res);
    const char *v = json_string_value(json_object_get(json_object_get(res, "header"), field));
    if (!rc && !v)
        rc = cv_fail(CV_EINVAL, "block %llu has no %s", (unsigned long long)height, field);
    if (!rc)
        snprintf(out, 2 * CV_HASH_LEN + 1, "%s", v);
    json_decref(res);
    return rc;
}

/* gov raises node 0's voting power above twice the others': from two
 * heights after the deciding vote it can commit alone, so the chain
 * outlives the other three. */
static void test_validator_change(e2e_chain *c)
{
    json_t *res = NULL;
    char key_hex[2 * CV_PUB_MAX + 1] = "", old_hash[2 * CV_HASH_LEN + 1], new_hash[2 * CV_HASH_LEN + 1],
         got[2 * CV_HASH_LEN + 1];
    uint64_t tip, from, power, old_power, total, raised, decided = 0, h;
    char raised_text[24];
    CHECK_OK(e2e_call(&c[0], "call", json_pack("{s:s, s:s}", "contract", "gov", "method", "validators"), &res));
    json_t *v;
    size_t i;
    json_array_foreach (json_object_get(res, "result"), i, v)
        if (strcmp(json_string_value(json_object_get(v, "org")), "org1") == 0)
            snprintf(key_hex, sizeof key_hex, "%s", json_string_value(json_object_get(v, "public_key")));
    json_decref(res);
    CHECK(key_hex[0] != 0);
    CHECK_OK(e2e_height(&c[0], &tip));
    CHECK_OK(validators_at(&c[0], tip + 1, key_hex, old_hash, &from, &old_power, &total));
    CHECK(old_power > 0 && old_power * 3 <= total * 2);
    raised = 2 * (total - old_power) + 1;
    snprintf(raised_text, sizeof raised_text, "%llu", (unsigned long long)raised);

    CHECK_OK(e2e_send_wait(&c[0], "gov", "propose",
                           json_pack("{s:s, s:s, s:s}", "kind", "set_validator", "key", key_hex, "value", raised_text),
                           &h));
    CHECK_OK(e2e_send_wait(&c[1], "gov", "vote", json_pack("{s:i, s:i}", "id", 1, "approve", 1), &h));
    CHECK_OK(e2e_send_wait(&c[2], "gov", "vote", json_pack("{s:i, s:i}", "id", 1, "approve", 1), &decided));
    fprintf(stderr, "  set_validator passed in block %llu\n", (unsigned long long)decided);

    /* The rule: the set of decided + 1 is the old one, that of decided + 2 the new one. */
    CHECK(wait_height(&c[3], decided) >= decided);
    CHECK_OK(validators_at(&c[3], decided + 1, key_hex, got, &from, &power, &total));
    CHECK(strcmp(got, old_hash) == 0 && power == old_power);
    CHECK_OK(validators_at(&c[3], decided + 2, key_hex, new_hash, &from, &power, &total));
    CHECK(power == raised && from == decided + 2 && strcmp(new_hash, old_hash) != 0);
    CHECK(e2e_call(&c[3], "validators", json_pack("{s:I}", "height", (json_int_t)decided + 50), &res) != CV_OK);
    CHECK(wait_height(&c[3], decided + 2) >= decided + 2);
    CHECK_OK(header_field(&c[3], decided + 1, "validators_hash", got));
    CHECK(strcmp(got, old_hash) == 0);
    CHECK_OK(header_field(&c[3], decided + 1, "next_validators_hash", got));
    CHECK(strcmp(got, new_hash) == 0);
    CHECK_OK(header_field(&c[3], decided + 2, "validators_hash", got));
    CHECK(strcmp(got, new_hash) == 0);

    /* Node 0 alone now holds more than two thirds of the power. */
    for (int k = 1; k < NODES; k++)
        e2e_stop(&c[k], SIGKILL);
    CHECK_OK(e2e_height(&c[0], &tip));
    CHECK(wait_height(&c[0], tip + 3) >= tip + 3);
    fprintf(stderr, "  with three of four validators down, node 0 (power %llu of %llu) committed up to %llu\n",
            (unsigned long long)raised, (unsigned long long)total, (unsigned long long)tip + 3);
    CHECK_OK(e2e_height(&c[0], &tip));
    for (int k = 1; k < NODES; k++)
        CHECK_OK(e2e_start(&c[k]));
    for (int k = 1; k < NODES; k++)
        CHECK(wait_height(&c[k], tip) >= tip);
    int alive[NODES] = {1, 1, 1, 1};
    CHECK(e2e_same_chain(c, NODES, alive));
}

/* Stamps dir/name through node 2; its receipt goes next to it. */
static void stamp_file(e2e_chain *c, const char *dir, const char *name)
{
    char file[300], key[300], log[300];
    snprintf(file, sizeof file, "%s/%s", dir, name);
    snprintf(key, sizeof key, "%s/admin.key", c[1].home);
    snprintf(log, sizeof log, "%s/stamp.log", dir);
    CHECK_OK(cv_file_write(file, name, strlen(name), 0644, 0));
    CHECK(e2e_run_log(log, c[1].civitas, "notary", "stamp", file, "--key", key, "--home", c[1].home, (char *)NULL) == 0);
}

/* Runs notary verify on dir/name with receipt; its exit status, and its
 * output in out. */
static int verify_receipt(e2e_chain *c, const char *dir, const char *name, const char *receipt, cv_buf *out)
{
    char file[300], genesis[300], log[300];
    snprintf(file, sizeof file, "%s/%s", dir, name);
    snprintf(genesis, sizeof genesis, "%s/genesis.json", c[0].home);
    snprintf(log, sizeof log, "%s/verify.log", dir);
    int status = e2e_run_log(log, c[0].civitas, "notary", "verify", file, receipt, "--genesis", genesis, (char *)NULL);
    cv_buf_reset(out);
    CHECK_OK(cv_file_read(log, 1 << 16, out));
    CHECK_OK(cv_buf_append_byte(out, 0));
    return status;
}

/* doc, rendered canonically, is refused as the receipt of dir/name with a
 * message containing why. */
static int verify_tampered(e2e_chain *c, const char *dir, const char *name, const json_t *doc, const char *why)
{
    char path[340];
    cv_buf text = {0}, out = {0};
    snprintf(path, sizeof path, "%s/%s.tampered.json", dir, name);
    char *rendered = json_dumps(doc, JSON_INDENT(2));
    CHECK_OK(cv_buf_append(&text, rendered, strlen(rendered)));
    CHECK_OK(cv_buf_append_byte(&text, '\n'));
    CHECK_OK(cv_file_write(path, text.data, text.len, 0644, 0));
    int refused = verify_receipt(c, dir, name, path, &out) == 1 && strstr((const char *)out.data, why) != NULL;
    if (!refused)
        fprintf(stderr, "  expected \"%s\", got: %s", why, (const char *)out.data);
    free(rendered);
    cv_buf_free(&text);
    cv_buf_free(&out);
    return refused;
}

/* With every node stopped: the receipt of dir/name verifies against the
 * genesis, certified by at least 3 validators of 4, through `changes`
 * validator-set changes. */
static void verify_offline(e2e_chain *c, const char *dir, const char *name, size_t changes)
{
    char receipt[320];
    cv_buf out = {0}, text = {0};
    snprintf(receipt, sizeof receipt, "%s/%s.receipt.json", dir, name);
    CHECK(verify_receipt(c, dir, name, receipt, &out) == 0);
    const char *certified = strstr((const char *)out.data, "certified by ");
    const char *power = certified ? strstr(certified, " of 4 validators (power ") : NULL;
    unsigned long long signed_power = 0, total = 0;
    CHECK(power && sscanf(power, " of 4 validators (power %llu of %llu)", &signed_power, &total) == 2);
    CHECK(signed_power * 3 > total * 2);
    fprintf(stderr, "  receipt of %s verified offline: %s", name, certified ? certified : "(no verdict)\n");
    CHECK_OK(cv_file_read(receipt, 1 << 22, &text));
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)text.data, text.len, 0, &jerr);
    json_t *list = json_object_get(json_object_get(doc, "validators"), "changes");
    CHECK(json_array_size(list) == changes);
    if (changes > 0) {
        json_t *change = json_array_get(list, 0), *v0 = json_array_get(json_object_get(change, "validators"), 0);
        json_t *cert = json_object_get(change, "cert");
        char *flipped = strdup(json_string_value(cert));
        flipped[strlen(flipped) - 1] = flipped[strlen(flipped) - 1] == '0' ? '1' : '0';
        /* The change's set must be the one its header names, */
        json_object_set_new(v0, "power", json_integer(json_integer_value(json_object_get(v0, "power")) + 1));
        CHECK(verify_tampered(c, dir, name, doc, "is not the set its header names as the next"));
        json_object_set_new(v0, "power", json_integer(json_integer_value(json_object_get(v0, "power")) - 1));
        /* its header certified by the set before it, */
        json_t *kept = json_incref(cert);
        json_object_set_new(change, "cert", json_string(flipped));
        CHECK(verify_tampered(c, dir, name, doc, "cert does not certify its header"));
        json_object_set(change, "cert", kept);
        json_decref(kept);
        free(flipped);
        /* and without the change the receipt proves nothing. */
        json_array_clear(list);
        CHECK(verify_tampered(c, dir, name, doc, "names another validator set"));
    }
    json_decref(doc);
    cv_buf_free(&out);
    cv_buf_free(&text);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-CIVITAS\n", argv[0]);
        return 2;
    }
    CHECK_OK(cv_crypto_init());
    e2e_chain c[NODES];
    char dir[256];
    CHECK_OK(e2e_init_consortium(c, NODES, argv[1], "std", dir));
    for (int i = 0; i < NODES; i++)
        CHECK_OK(e2e_start(&c[i]));
    if (check_failures == 0) {
        test_faults(c);
        test_outsider(c, dir, "genesis");
        test_outsider(c, dir, "key");
        stamp_file(c, dir, "before-change.txt");
        test_validator_change(c);
        stamp_file(c, dir, "after-change.txt");
    }
    for (int i = 0; i < NODES; i++) {
        if (c[i].pid > 0)
            CHECK(e2e_stop(&c[i], SIGTERM) == 0);
        cv_key_wipe(&c[i].admin);
    }
    if (check_failures == 0) {
        verify_offline(c, dir, "before-change.txt", 0);
        verify_offline(c, dir, "after-change.txt", 1);
    }
    if (!getenv("CV_KEEP_E2E"))
        e2e_remove_tree(dir);
    cv_crypto_cleanup();
    return check_done();
}
