/* vote.c: encodings, sign bytes and verification of proposals, votes and
 * commit certificates (see vote.h). */
#include "consensus/vote.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"

#define VOTE_DOMAIN "civitas/vote/1"
#define PROPOSAL_DOMAIN "civitas/proposal/1"

/* ---- shared field helpers -------------------------------------------------- */

static int decode_sig(cv_dec *d, uint32_t field, const char *what, cv_suite suite, cv_sig *out)
{
    const uint8_t *p;
    size_t n;
    int rc = cv_dec_bytes(d, field, "signature", &p, &n, CV_SIG_MAX);
    if (rc)
        return rc;
    if (cv_sig_parse(suite, p, n, out) != CV_OK) {
        char why[200];
        snprintf(why, sizeof why, "%s", cv_errmsg());
        return cv_fail(CV_EDECODE, "%s signature: %s", what, why);
    }
    return CV_OK;
}

static int decode_round(cv_dec *d, uint32_t field, int32_t *out)
{
    uint64_t r = 0;
    int rc = cv_dec_uint_max(d, field, "round", &r, CV_VOTE_ROUND_MAX);
    *out = (int32_t)r;
    return rc;
}

static int decode_index(cv_dec *d, uint32_t field, const char *name, uint32_t *out)
{
    uint64_t i = 0;
    int rc = cv_dec_uint_max(d, field, name, &i, CV_VALSET_MAX - 1);
    *out = (uint32_t)i;
    return rc;
}

static int finish_sign_bytes(cv_enc *e)
{
    int rc = cv_enc_finish(e);
    return rc ? cv_fail(rc, "cannot encode sign bytes: %s", cv_errmsg()) : CV_OK;
}

static int verify_bytes(const cv_pubkey *pub, const cv_buf *msg, const cv_sig *sig)
{
    return cv_verify(pub, msg->data, msg->len, sig) == CV_OK ? CV_OK : CV_EBADSIG;
}

/* ---- votes ------------------------------------------------------------------ */

static void put_vote_hash(cv_enc *e, uint32_t field, const cv_vote *v)
{
    cv_enc_bytes(e, field, v->hash, v->nil ? 0 : CV_HASH_LEN);
}

int cv_vote_sign_bytes(const char *chain_id, const cv_vote *v, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_str(&e, 1, VOTE_DOMAIN);
    cv_enc_str(&e, 2, chain_id);
    cv_enc_uint(&e, 3, v->type);
    cv_enc_uint(&e, 4, v->height);
    cv_enc_uint(&e, 5, (uint64_t)v->round);
    put_vote_hash(&e, 6, v);
    cv_enc_uint(&e, 7, v->validator);
    return finish_sign_bytes(&e);
}

int cv_vote_encode(const cv_vote *v, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_uint(&e, 1, v->type);
    cv_enc_uint(&e, 2, v->height);
    cv_enc_uint(&e, 3, (uint64_t)v->round);
    put_vote_hash(&e, 4, v);
    cv_enc_uint(&e, 5, v->validator);
    cv_enc_bytes(&e, 6, v->sig.bytes, v->sig.len);
    return cv_enc_finish(&e);
}

int cv_vote_decode(cv_suite suite, const uint8_t *p, size_t len, cv_vote *out)
{
    cv_dec d;
    uint64_t type = 0;
    const uint8_t *hash = NULL;
    size_t hash_len = 0;
    memset(out, 0, sizeof *out);
    cv_dec_init(&d, p, len);
    if (cv_dec_uint(&d, 1, "type", &type) == CV_OK && (type < CV_VOTE_PREVOTE || type > CV_VOTE_PRECOMMIT))
        return cv_fail(CV_EDECODE, "vote type %llu: expected 1 (prevote) or 2 (precommit)",
                       (unsigned long long)type);
    out->type = (cv_vote_type)type;
    cv_dec_uint(&d, 2, "height", &out->height);
    decode_round(&d, 3, &out->round);
    if (cv_dec_bytes(&d, 4, "block hash", &hash, &hash_len, CV_HASH_LEN) == CV_OK && hash_len != 0 &&
        hash_len != CV_HASH_LEN)
        return cv_fail(CV_EDECODE, "vote block hash of %zu bytes: expected %d, or 0 for nil", hash_len,
                       CV_HASH_LEN);
    out->nil = hash_len == 0;
    if (hash_len)
        memcpy(out->hash, hash, CV_HASH_LEN);
    decode_index(&d, 5, "validator index", &out->validator);
    int rc = d.err ? d.err : decode_sig(&d, 6, "vote", suite, &out->sig);
    if (!rc)
        rc = cv_dec_end(&d);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

int cv_vote_verify(const char *chain_id, const cv_pubkey *pub, const cv_vote *v)
{
    cv_buf msg = {0};
    int rc = cv_vote_sign_bytes(chain_id, v, &msg);
    if (!rc)
        rc = verify_bytes(pub, &msg, &v->sig);
    cv_buf_free(&msg);
    return rc;
}

/* ---- proposals -------------------------------------------------------------- */

int cv_vote_proposal_sign_bytes(const char *chain_id, const cv_vote_proposal *p, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_str(&e, 1, PROPOSAL_DOMAIN);
    cv_enc_str(&e, 2, chain_id);
    cv_enc_uint(&e, 3, p->height);
    cv_enc_uint(&e, 4, (uint64_t)p->round);
    cv_enc_uint(&e, 5, (uint64_t)(p->pol_round + 1));
    cv_enc_bytes(&e, 6, p->hash, CV_HASH_LEN);
    cv_enc_uint(&e, 7, p->proposer);
    return finish_sign_bytes(&e);
}

int cv_vote_proposal_encode(const cv_vote_proposal *p, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_uint(&e, 1, p->height);
    cv_enc_uint(&e, 2, (uint64_t)p->round);
    cv_enc_uint(&e, 3, (uint64_t)(p->pol_round + 1));
    cv_enc_bytes(&e, 4, p->hash, CV_HASH_LEN);
    cv_enc_uint(&e, 5, p->proposer);
    cv_enc_bytes(&e, 6, p->sig.bytes, p->sig.len);
    cv_enc_bytes(&e, 7, p->block, p->block_len);
    return cv_enc_finish(&e);
}

int cv_vote_proposal_decode(cv_suite suite, const uint8_t *p, size_t len, cv_vote_proposal *out)
{
    cv_dec d;
    uint64_t pol = 0;
    memset(out, 0, sizeof *out);
    cv_dec_init(&d, p, len);
    cv_dec_uint(&d, 1, "height", &out->height);
    decode_round(&d, 2, &out->round);
    if (cv_dec_uint(&d, 3, "valid round", &pol) == CV_OK && pol > (uint64_t)out->round)
        return cv_fail(CV_EDECODE, "proposal valid round %llu is not below its round %d",
                       (unsigned long long)pol - 1, (int)out->round);
    out->pol_round = (int32_t)pol - 1;
    cv_dec_fixed(&d, 4, "block hash", out->hash, CV_HASH_LEN);
    decode_index(&d, 5, "proposer index", &out->proposer);
    int rc = d.err ? d.err : decode_sig(&d, 6, "proposal", suite, &out->sig);
    if (!rc)
        rc = cv_dec_bytes(&d, 7, "block", &out->block, &out->block_len, len);
    if (!rc)
        rc = cv_dec_end(&d);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

int cv_vote_proposal_verify(const char *chain_id, const cv_pubkey *pub, const cv_vote_proposal *p)
{
    cv_buf msg = {0};
    int rc = cv_vote_proposal_sign_bytes(chain_id, p, &msg);
    if (!rc)
        rc = verify_bytes(pub, &msg, &p->sig);
    cv_buf_free(&msg);
    return rc;
}

/* ---- commit certificates ------------------------------------------------------ */

int cv_cert_encode(const cv_cert *c, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_uint(&e, 1, c->height);
    cv_enc_uint(&e, 2, (uint64_t)c->round);
    cv_enc_bytes(&e, 3, c->hash, CV_HASH_LEN);
    cv_enc_list_begin(&e, 4, CV_CODEC_MSG_LIST);
    for (size_t i = 0; i < c->n; i++) {
        cv_enc_msg_begin(&e, CV_CODEC_ITEM);
        cv_enc_uint(&e, 1, c->sigs[i].validator);
        cv_enc_bytes(&e, 2, c->sigs[i].sig.bytes, c->sigs[i].sig.len);
        cv_enc_end(&e);
    }
    cv_enc_end(&e);
    return cv_enc_finish(&e);
}

static int decode_cert_sig(cv_dec *d, cv_suite suite, size_t i, cv_cert *c)
{
    cv_dec sub;
    int rc = cv_dec_msg(d, CV_CODEC_ITEM, NULL, &sub, 16 + CV_SIG_MAX);
    if (!rc)
        rc = decode_index(&sub, 1, "validator index", &c->sigs[i].validator);
    if (!rc)
        rc = decode_sig(&sub, 2, "certificate", suite, &c->sigs[i].sig);
    if (!rc)
        rc = cv_dec_end(&sub);
    if (!rc && i > 0 && c->sigs[i].validator <= c->sigs[i - 1].validator)
        rc = cv_fail(CV_EDECODE, "certificate signature %zu: validator %u after %u (indices must increase)",
                     i, c->sigs[i].validator, c->sigs[i - 1].validator);
    return rc;
}

int cv_cert_decode(cv_suite suite, const uint8_t *p, size_t len, cv_cert *out)
{
    cv_dec d;
    memset(out, 0, sizeof *out);
    cv_dec_init(&d, p, len);
    cv_dec_uint(&d, 1, "height", &out->height);
    decode_round(&d, 2, &out->round);
    cv_dec_fixed(&d, 3, "block hash", out->hash, CV_HASH_LEN);
    int rc = cv_dec_list(&d, 4, "signatures", CV_CODEC_MSG_LIST, &out->n, CV_VALSET_MAX);
    for (size_t i = 0; i < out->n && !rc; i++)
        rc = decode_cert_sig(&d, suite, i, out);
    if (!rc)
        rc = cv_dec_end(&d);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

/* Checks every signature of c as a precommit for (height, round, hash). */
static int verify_cert_sigs(const char *chain_id, const cv_valset *vs, const cv_cert *c, uint64_t *power)
{
    cv_vote v = {.type = CV_VOTE_PRECOMMIT, .height = c->height, .round = c->round};
    memcpy(v.hash, c->hash, CV_HASH_LEN);
    *power = 0;
    for (size_t i = 0; i < c->n; i++) {
        uint32_t who = c->sigs[i].validator;
        if (who >= vs->n)
            return cv_fail(CV_EINVAL, "certificate signer %u is not one of the %zu validators", who, vs->n);
        v.validator = who;
        v.sig = c->sigs[i].sig;
        int rc = cv_vote_verify(chain_id, &vs->v[who].pub, &v);
        if (rc == CV_EBADSIG)
            return cv_fail(CV_EBADSIG, "certificate signature of validator %u does not verify", who);
        if (rc)
            return rc;
        *power += vs->v[who].power;
    }
    return CV_OK;
}

int cv_cert_verify(cv_suite suite, const char *chain_id, const cv_valset *vs, uint64_t height,
                   const uint8_t block_hash[CV_HASH_LEN], const uint8_t *cert, size_t len)
{
    cv_cert c;
    uint64_t power;
    if (suite != vs->suite)
        return cv_fail(CV_EINVAL, "certificate check with a %s validator set on a %s chain",
                       cv_suite_name(vs->suite), cv_suite_name(suite));
    int rc = cv_cert_decode(suite, cert, len, &c);
    if (rc)
        return rc;
    if (c.height != height)
        return cv_fail(CV_EINVAL, "certificate is for height %llu, not %llu", (unsigned long long)c.height,
                       (unsigned long long)height);
    if (memcmp(c.hash, block_hash, CV_HASH_LEN) != 0)
        return cv_fail(CV_EINVAL, "certificate at height %llu is for another block", (unsigned long long)height);
    if ((rc = verify_cert_sigs(chain_id, vs, &c, &power)))
        return rc;
    if (!cv_valset_quorum(vs, power))
        return cv_fail(CV_EINVAL, "certificate signers hold %llu of %llu voting power, not more than two thirds",
                       (unsigned long long)power, (unsigned long long)vs->total);
    return CV_OK;
}

int cv_cert_sign_single(const char *chain_id, const cv_keypair *key, uint32_t validator, uint64_t height,
                        const uint8_t block_hash[CV_HASH_LEN], cv_buf *out)
{
    cv_vote v = {.type = CV_VOTE_PRECOMMIT, .height = height, .round = 0, .validator = validator};
    cv_cert c = {.height = height, .round = 0, .n = 1};
    cv_buf msg = {0};
    memcpy(v.hash, block_hash, CV_HASH_LEN);
    memcpy(c.hash, block_hash, CV_HASH_LEN);
    c.sigs[0].validator = validator;
    int rc = cv_vote_sign_bytes(chain_id, &v, &msg);
    if (!rc)
        rc = cv_sign(key, msg.data, msg.len, &c.sigs[0].sig);
    cv_buf_free(&msg);
    return rc ? rc : cv_cert_encode(&c, out);
}
