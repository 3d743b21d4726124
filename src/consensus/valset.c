/* valset.c: validator sets: construction, hash, proposer order, quorums
 * (see valset.h). */
#include "consensus/valset.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "codec/codec.h"

_Static_assert(CV_VALSET_MAX <= 256, "proposer cycle entries are 8-bit indices");

static int cmp_addr(const void *a, const void *b)
{
    return memcmp(((const cv_validator *)a)->addr, ((const cv_validator *)b)->addr, CV_ADDR_LEN);
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The proposer weights: powers over their gcd, scaled down if they sum to
 * more than CV_VALSET_CYCLE_MAX. Returns their sum. */
static uint32_t proposer_weights(const cv_valset *vs, uint32_t w[CV_VALSET_MAX])
{
    uint64_t g = 0, sum = 0;
    for (size_t i = 0; i < vs->n; i++)
        g = gcd(vs->v[i].power, g);
    for (size_t i = 0; i < vs->n; i++)
        sum += vs->v[i].power / g;
    if (sum <= CV_VALSET_CYCLE_MAX) {
        for (size_t i = 0; i < vs->n; i++)
            w[i] = (uint32_t)(vs->v[i].power / g);
        return (uint32_t)sum;
    }
    /* Divide by d = ceil(sum / CYCLE_MAX): the quotients sum to at most
     * CYCLE_MAX, and raising zeros to 1 adds at most one per validator. */
    uint64_t d = (sum + CV_VALSET_CYCLE_MAX - 1) / CV_VALSET_CYCLE_MAX;
    uint32_t scaled = 0;
    for (size_t i = 0; i < vs->n; i++) {
        uint64_t q = vs->v[i].power / g / d;
        w[i] = q ? (uint32_t)q : 1;
        scaled += w[i];
    }
    assert(scaled <= CV_VALSET_CYCLE_MAX + CV_VALSET_MAX);
    return scaled;
}

/* One cycle of the smooth weighted round robin over the weights w. */
static void build_cycle(cv_valset *vs)
{
    uint32_t w[CV_VALSET_MAX];
    int64_t prio[CV_VALSET_MAX] = {0};
    uint32_t total = proposer_weights(vs, w);
    for (uint32_t k = 0; k < total; k++) {
        size_t best = 0;
        for (size_t i = 0; i < vs->n; i++) {
            prio[i] += w[i];
            if (prio[i] > prio[best])
                best = i;
        }
        prio[best] -= total;
        vs->cycle[k] = (uint8_t)best;
    }
    vs->cycle_len = total;
}

int cv_valset_encode(const cv_valset *vs, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_list_begin(&e, 1, CV_CODEC_MSG_LIST);
    for (size_t i = 0; i < vs->n; i++) {
        cv_enc_msg_begin(&e, CV_CODEC_ITEM);
        cv_enc_bytes(&e, 1, vs->v[i].pub.bytes, vs->v[i].pub.len);
        cv_enc_uint(&e, 2, vs->v[i].power);
        cv_enc_end(&e);
    }
    cv_enc_end(&e);
    return cv_enc_finish(&e);
}

static int compute_hash(cv_valset *vs)
{
    cv_buf b = {0};
    int rc = cv_valset_encode(vs, &b);
    if (!rc)
        rc = cv_hash(vs->suite, b.data, b.len, vs->hash);
    cv_buf_free(&b);
    return rc;
}

/* One {1: public key, 2: power} of an encoded set. */
static int decode_entry(cv_dec *d, cv_suite suite, size_t i, size_t max_len, cv_valset_entry *out)
{
    cv_dec item;
    const uint8_t *key;
    size_t key_len;
    cv_dec_msg(d, CV_CODEC_ITEM, "validator", &item, max_len);
    cv_dec_bytes(&item, 1, "public_key", &key, &key_len, CV_PUB_MAX);
    cv_dec_uint(&item, 2, "power", &out->power);
    int rc = cv_dec_end(&item);
    if (!rc && cv_pubkey_parse(suite, key, key_len, &out->pub) != CV_OK)
        rc = cv_fail(CV_EINVAL, "validator %zu: not a %s public key", i, cv_suite_name(suite));
    return rc;
}

/* Decoding succeeds only for the canonical encoding of a valid set. */
int cv_valset_decode(cv_valset *vs, cv_suite suite, const uint8_t *p, size_t len)
{
    cv_valset_entry *entries = malloc(CV_VALSET_MAX * sizeof *entries);
    if (!entries)
        return cv_fail(CV_ENOMEM, "out of memory decoding a validator set");
    cv_dec d;
    cv_buf again = {0};
    size_t n = 0;
    cv_dec_init(&d, p, len);
    int rc = cv_dec_list(&d, 1, "validators", CV_CODEC_MSG_LIST, &n, CV_VALSET_MAX);
    for (size_t i = 0; i < n && !rc; i++)
        rc = decode_entry(&d, suite, i, len, &entries[i]);
    if (!rc)
        rc = cv_dec_end(&d);
    if (!rc)
        rc = cv_valset_init(vs, suite, entries, n);
    if (!rc && !(rc = cv_valset_encode(vs, &again)) && (again.len != len || memcmp(again.data, p, len) != 0))
        rc = cv_fail(CV_EDECODE, "the validators are not in address order");
    free(entries);
    cv_buf_free(&again);
    if (rc && rc != CV_ENOMEM)
        return cv_fail(CV_EDECODE, "validator set: %s", cv_errmsg());
    return rc;
}

static int check_entry(cv_suite suite, const cv_valset_entry *e, size_t i, uint64_t total)
{
    if (e->pub.suite != suite)
        return cv_fail(CV_EINVAL, "validator %zu: a %s key in a %s validator set", i,
                       cv_suite_name(e->pub.suite), cv_suite_name(suite));
    if (e->power == 0)
        return cv_fail(CV_EINVAL, "validator %zu: voting power 0 (remove it instead)", i);
    if (e->power > CV_VALSET_POWER_MAX - total)
        return cv_fail(CV_EINVAL, "validator %zu: total voting power exceeds %llu", i,
                       (unsigned long long)CV_VALSET_POWER_MAX);
    return CV_OK;
}

int cv_valset_init(cv_valset *vs, cv_suite suite, const cv_valset_entry *entries, size_t n)
{
    memset(vs, 0, sizeof *vs);
    if (n == 0 || n > CV_VALSET_MAX)
        return cv_fail(CV_EINVAL, "a validator set has 1 to %d validators, not %zu", CV_VALSET_MAX, n);
    vs->suite = suite;
    for (size_t i = 0; i < n; i++) {
        int rc = check_entry(suite, &entries[i], i, vs->total);
        if (!rc)
            rc = cv_address(&entries[i].pub, vs->v[i].addr);
        if (rc) {
            memset(vs, 0, sizeof *vs);
            return rc;
        }
        vs->v[i].pub = entries[i].pub;
        vs->v[i].power = entries[i].power;
        vs->total += entries[i].power;
    }
    vs->n = n;
    qsort(vs->v, n, sizeof vs->v[0], cmp_addr);
    for (size_t i = 1; i < n; i++)
        if (memcmp(vs->v[i - 1].addr, vs->v[i].addr, CV_ADDR_LEN) == 0) {
            memset(vs, 0, sizeof *vs);
            return cv_fail(CV_EINVAL, "validator set lists one public key twice");
        }
    build_cycle(vs);
    int rc = compute_hash(vs);
    if (rc)
        memset(vs, 0, sizeof *vs);
    return rc;
}

int cv_valset_find_addr(const cv_valset *vs, const uint8_t addr[CV_ADDR_LEN])
{
    size_t lo = 0, hi = vs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(vs->v[mid].addr, addr, CV_ADDR_LEN);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int cv_valset_find_key(const cv_valset *vs, const cv_pubkey *pub)
{
    uint8_t addr[CV_ADDR_LEN];
    if (pub->suite != vs->suite || cv_address(pub, addr) != CV_OK)
        return -1;
    int i = cv_valset_find_addr(vs, addr);
    if (i >= 0 && (vs->v[i].pub.len != pub->len || memcmp(vs->v[i].pub.bytes, pub->bytes, pub->len) != 0))
        return -1;
    return i;
}

size_t cv_valset_proposer(const cv_valset *vs, uint64_t height, uint32_t round)
{
    assert(vs->n > 0 && vs->cycle_len > 0);
    uint64_t k = (height % vs->cycle_len + round % vs->cycle_len) % vs->cycle_len;
    return vs->cycle[k];
}

int cv_valset_quorum(const cv_valset *vs, uint64_t power)
{
    assert(power <= vs->total);
    return power * 3 > vs->total * 2;
}

int cv_valset_third(const cv_valset *vs, uint64_t power)
{
    assert(power <= vs->total);
    return power * 3 > vs->total;
}

uint64_t cv_valset_source_height(uint64_t height)
{
    return height > CV_VALSET_DELAY ? height - CV_VALSET_DELAY : 0;
}
