/* test_valset.c: validator sets: construction and its errors, address
 * order, lookups, the hash (encoding, order independence, a fixed vector),
 * weighted round-robin proposer selection (exact shares per cycle, smooth
 * interleaving, scaled weights, the (h, r) rule), quorum thresholds and the
 * validator-set change delay. */
#include <stdlib.h>

#include "base/buf.h"
#include "check.h"
#include "codec/codec.h"
#include "consensus/valset.h"
#include "crypto/suite.h"

#define NKEYS 8

static cv_keypair keys[NKEYS];

static void make_keys(void)
{
    for (int i = 0; i < NKEYS; i++) {
        uint8_t secret[CV_SECRET_LEN];
        memset(secret, 0x40 + i, sizeof secret);
        CHECK_OK(cv_key_from_secret(CV_SUITE_STD, secret, &keys[i]));
    }
}

static cv_valset *make_set(const uint64_t *powers, size_t n)
{
    cv_valset_entry e[NKEYS];
    cv_valset *vs = malloc(sizeof *vs);
    for (size_t i = 0; i < n; i++) {
        e[i].pub = keys[i].pub;
        e[i].power = powers[i];
    }
    CHECK_OK(cv_valset_init(vs, CV_SUITE_STD, e, n));
    return vs;
}

/* {1: [{1: key, 2: power}, ...]} of vs's validators, in its (address)
 * order or reversed, written field by field. */
static void encode_by_hand(const cv_valset *vs, int reversed, cv_buf *out)
{
    cv_enc enc;
    cv_enc_init(&enc, out);
    cv_enc_list_begin(&enc, 1, CV_CODEC_MSG_LIST);
    for (size_t k = 0; k < vs->n; k++) {
        size_t i = reversed ? vs->n - 1 - k : k;
        cv_enc_msg_begin(&enc, CV_CODEC_ITEM);
        cv_enc_bytes(&enc, 1, vs->v[i].pub.bytes, vs->v[i].pub.len);
        cv_enc_uint(&enc, 2, vs->v[i].power);
        cv_enc_end(&enc);
    }
    cv_enc_end(&enc);
    CHECK_OK(cv_enc_finish(&enc));
}

static void test_errors(void)
{
    cv_valset *vs = malloc(sizeof *vs);
    cv_valset_entry e[3] = {{keys[0].pub, 1}, {keys[1].pub, 1}, {keys[0].pub, 2}};
    CHECK_ERR(cv_valset_init(vs, CV_SUITE_STD, e, 0), CV_EINVAL);
    CHECK_MSG("1 to 128 validators");
    CHECK_ERR(cv_valset_init(vs, CV_SUITE_STD, e, 3), CV_EINVAL);
    CHECK_MSG("lists one public key twice");
    e[2].pub = keys[2].pub;
    e[1].power = 0;
    CHECK_ERR(cv_valset_init(vs, CV_SUITE_STD, e, 3), CV_EINVAL);
    CHECK_MSG("validator 1: voting power 0");
    e[1].power = CV_VALSET_POWER_MAX;
    CHECK_ERR(cv_valset_init(vs, CV_SUITE_STD, e, 3), CV_EINVAL);
    CHECK_MSG("total voting power exceeds");
    e[1].power = 1;
    CHECK_ERR(cv_valset_init(vs, CV_SUITE_GM, e, 3), CV_EINVAL);
    CHECK_MSG("validator 0: a std key in a gm validator set");
    CHECK(vs->n == 0);
    free(vs);
}

static void test_order_and_lookup(void)
{
    uint64_t powers[5] = {5, 1, 3, 2, 4};
    cv_valset *vs = make_set(powers, 5);
    CHECK(vs->n == 5 && vs->total == 15);
    for (size_t i = 1; i < vs->n; i++)
        CHECK(memcmp(vs->v[i - 1].addr, vs->v[i].addr, CV_ADDR_LEN) < 0);
    for (int k = 0; k < 5; k++) {
        int i = cv_valset_find_key(vs, &keys[k].pub);
        CHECK(i >= 0 && vs->v[i].power == powers[k]);
        uint8_t addr[CV_ADDR_LEN];
        CHECK_OK(cv_address(&keys[k].pub, addr));
        CHECK(cv_valset_find_addr(vs, addr) == i);
    }
    CHECK(cv_valset_find_key(vs, &keys[6].pub) == -1);
    uint8_t nobody[CV_ADDR_LEN] = {0};
    CHECK(cv_valset_find_addr(vs, nobody) == -1);
    free(vs);
}

static void test_hash(void)
{
    uint64_t powers[4] = {10, 20, 30, 40};
    cv_valset *vs = make_set(powers, 4);
    /* The same set listed in another order has the same hash. */
    cv_valset_entry e[4];
    for (int i = 0; i < 4; i++) {
        e[i].pub = keys[3 - i].pub;
        e[i].power = powers[3 - i];
    }
    cv_valset *other = malloc(sizeof *other);
    CHECK_OK(cv_valset_init(other, CV_SUITE_STD, e, 4));
    CHECK(memcmp(vs->hash, other->hash, CV_HASH_LEN) == 0);
    /* It is the hash of {1: [{1: key, 2: power}, ...]} in address order. */
    cv_buf b = {0};
    encode_by_hand(vs, 0, &b);
    uint8_t h[CV_HASH_LEN];
    CHECK_OK(cv_hash(CV_SUITE_STD, b.data, b.len, h));
    CHECK(memcmp(h, vs->hash, CV_HASH_LEN) == 0);
    /* A fixed vector (computed independently with Python's cryptography and
     * hashlib): this hash is in block headers, so it must never change. */
    char hex[2 * CV_HASH_LEN + 1];
    cv_hex_encode(vs->hash, CV_HASH_LEN, hex);
    CHECK(strcmp(hex, "62fb96734267c378776e69fd25aa4290f189594fdd4a017dbada796a30497892") == 0 ||
          (fprintf(stderr, "valset hash is %s\n", hex), 0));
    /* A change of power changes it. */
    e[0].power = 41;
    CHECK_OK(cv_valset_init(other, CV_SUITE_STD, e, 4));
    CHECK(memcmp(vs->hash, other->hash, CV_HASH_LEN) != 0);
    cv_buf_free(&b);
    free(vs);
    free(other);
}

/* A set decodes from its encoding to the same set; malformed encodings
 * are refused with what is wrong. */
static void test_encoding(void)
{
    uint64_t powers[3] = {5, 1, 9};
    cv_valset *vs = make_set(powers, 3), *back = malloc(sizeof *back);
    cv_buf b = {0};
    CHECK_OK(cv_valset_encode(vs, &b));
    CHECK_OK(cv_valset_decode(back, CV_SUITE_STD, b.data, b.len));
    CHECK(back->n == 3 && back->total == 15 && memcmp(back->hash, vs->hash, CV_HASH_LEN) == 0);
    for (size_t i = 0; i < 3; i++)
        CHECK(back->v[i].power == vs->v[i].power && memcmp(back->v[i].addr, vs->v[i].addr, CV_ADDR_LEN) == 0);
    CHECK(cv_valset_decode(back, CV_SUITE_GM, b.data, b.len) != CV_OK); /* Ed25519 keys on a gm chain */
    CHECK_MSG("not a gm public key");
    CHECK(cv_valset_decode(back, CV_SUITE_STD, b.data, b.len - 1) != CV_OK);
    uint8_t garbage[3] = {0xff, 0xff, 0xff};
    CHECK(cv_valset_decode(back, CV_SUITE_STD, garbage, sizeof garbage) != CV_OK);
    /* An empty list and a zero power are not sets. */
    cv_buf e = {0};
    cv_enc enc;
    cv_enc_init(&enc, &e);
    cv_enc_list_begin(&enc, 1, CV_CODEC_MSG_LIST);
    cv_enc_end(&enc);
    CHECK_OK(cv_enc_finish(&enc));
    CHECK_ERR(cv_valset_decode(back, CV_SUITE_STD, e.data, e.len), CV_EDECODE);
    cv_buf_reset(&e);
    cv_enc_init(&enc, &e);
    cv_enc_list_begin(&enc, 1, CV_CODEC_MSG_LIST);
    cv_enc_msg_begin(&enc, CV_CODEC_ITEM);
    cv_enc_bytes(&enc, 1, keys[0].pub.bytes, keys[0].pub.len);
    cv_enc_uint(&enc, 2, 0);
    cv_enc_end(&enc);
    cv_enc_end(&enc);
    CHECK_OK(cv_enc_finish(&enc));
    CHECK_ERR(cv_valset_decode(back, CV_SUITE_STD, e.data, e.len), CV_EDECODE);
    CHECK_MSG("voting power 0");
    /* The same validators out of address order are refused. */
    cv_buf_reset(&e);
    encode_by_hand(vs, 1, &e);
    CHECK_ERR(cv_valset_decode(back, CV_SUITE_STD, e.data, e.len), CV_EDECODE);
    CHECK_MSG("not in address order");
    cv_buf_free(&b);
    cv_buf_free(&e);
    free(vs);
    free(back);
}

/* Over whole cycles each validator proposes exactly in proportion to power. */
static void test_proposer_shares(void)
{
    uint64_t powers[4] = {1, 2, 3, 4};
    cv_valset *vs = make_set(powers, 4);
    CHECK(vs->cycle_len == 10);
    size_t count[4] = {0};
    for (uint64_t h = 1; h <= 10000; h++)
        count[cv_valset_proposer(vs, h, 0)]++;
    for (size_t i = 0; i < 4; i++)
        CHECK(count[i] == 1000 * vs->v[i].power);
    /* Rounds advance the same sequence: (h, r) is the step h + r. */
    for (uint64_t h = 0; h < 50; h++)
        for (uint32_t r = 0; r < 30; r++)
            CHECK(cv_valset_proposer(vs, h, r) == cv_valset_proposer(vs, h + r, 0));
    /* Smooth: in any window of 10 consecutive steps the shares are exact. */
    for (uint64_t start = 0; start < 10; start++) {
        size_t w[4] = {0};
        for (uint64_t k = start; k < start + 10; k++)
            w[cv_valset_proposer(vs, k, 0)]++;
        for (size_t i = 0; i < 4; i++)
            CHECK(w[i] == vs->v[i].power);
    }
    free(vs);
}

static void test_proposer_equal_and_smooth(void)
{
    uint64_t equal[4] = {7, 7, 7, 7};
    cv_valset *vs = make_set(equal, 4);
    CHECK(vs->cycle_len == 4); /* powers are divided by their gcd */
    for (uint64_t h = 0; h < 40; h++)
        CHECK(cv_valset_proposer(vs, h, 0) == h % 4);
    free(vs);
    /* 3 : 1 interleaves as A A B A (ties go to the lower index), never A A A. */
    uint64_t skew[2] = {3, 1};
    vs = make_set(skew, 2);
    size_t heavy = vs->v[0].power == 3 ? 0 : 1;
    size_t expect[4] = {heavy, heavy, 1 - heavy, heavy};
    if (heavy == 1) { /* the light one has index 0 and wins the first tie */
        expect[0] = 1, expect[1] = 0, expect[2] = 1, expect[3] = 1;
    }
    for (size_t k = 0; k < 4; k++)
        CHECK(cv_valset_proposer(vs, k, 0) == expect[k]);
    free(vs);
}

static void test_proposer_scaled(void)
{
    uint64_t powers[4] = {1000000, 1, 999999, 500000};
    cv_valset *vs = make_set(powers, 4);
    CHECK(vs->cycle_len > 0 && vs->cycle_len <= CV_VALSET_CYCLE_MAX + CV_VALSET_MAX);
    size_t count[4] = {0};
    for (uint64_t k = 0; k < vs->cycle_len; k++)
        count[cv_valset_proposer(vs, k, 0)]++;
    for (size_t i = 0; i < 4; i++) {
        double share = (double)count[i] / vs->cycle_len, want = (double)vs->v[i].power / vs->total;
        CHECK(count[i] >= 1); /* even the smallest power proposes */
        CHECK(share - want < 0.001 && want - share < 0.001);
    }
    /* Heights far apart work (no overflow, same cycle). */
    CHECK(cv_valset_proposer(vs, UINT64_MAX, UINT32_MAX) < 4);
    free(vs);
}

static void test_quorums(void)
{
    uint64_t ones[4] = {1, 1, 1, 1};
    cv_valset *vs = make_set(ones, 4);
    CHECK(cv_valset_quorum(vs, 3) && !cv_valset_quorum(vs, 2));
    CHECK(cv_valset_third(vs, 2) && !cv_valset_third(vs, 1));
    free(vs);
    uint64_t mixed[3] = {5, 3, 2}; /* total 10 */
    vs = make_set(mixed, 3);
    CHECK(cv_valset_quorum(vs, 7) && !cv_valset_quorum(vs, 6));
    CHECK(cv_valset_third(vs, 4) && !cv_valset_third(vs, 3));
    free(vs);
    uint64_t six[2] = {3, 3}; /* exactly two thirds is not a quorum */
    vs = make_set(six, 2);
    CHECK(!cv_valset_quorum(vs, 4) && cv_valset_quorum(vs, 5) && !cv_valset_third(vs, 2));
    free(vs);
}

static void test_delay(void)
{
    CHECK(CV_VALSET_DELAY == 2);
    CHECK(cv_valset_source_height(0) == 0);
    CHECK(cv_valset_source_height(1) == 0);
    CHECK(cv_valset_source_height(2) == 0);
    CHECK(cv_valset_source_height(3) == 1);
    CHECK(cv_valset_source_height(1000) == 998);
}

int main(void)
{
    CHECK_OK(cv_crypto_init());
    make_keys();
    test_errors();
    test_order_and_lookup();
    test_hash();
    test_encoding();
    test_proposer_shares();
    test_proposer_equal_and_smooth();
    test_proposer_scaled();
    test_quorums();
    test_delay();
    for (int i = 0; i < NKEYS; i++)
        cv_key_wipe(&keys[i]);
    cv_crypto_cleanup();
    return check_done();
}
