/* derive.c: the facts a receipt's bytes state: what the stamp transaction
 * stamps and who signed it, what its receipt entry records, what the block
 * header says (internal.h). Building a receipt fills its readable fields
 * from these; verifying one compares its fields with them. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "exec/exec.h"
#include "proof/internal.h"

#define YEAR_9999_END_S 253402300799ull /* 9999-12-31T23:59:59Z */

/* Reads the stamp's arguments {hash, label} by notary.stamp's schema. */
static int stamp_args(const cv_tx *tx, cv_proof_stamp_facts *out)
{
    json_t *args = NULL;
    if (cv_exec_args_to_json("notary", "stamp", tx->args, tx->args_len, &args) != CV_OK)
        return cv_fail(CV_EINVAL, "stamp.tx: its arguments are not notary.stamp's: %s", cv_errmsg());
    const char *hash = json_string_value(json_object_get(args, "hash"));
    const char *label = json_string_value(json_object_get(args, "label"));
    int rc = hash && label && cv_hex_decode(hash, out->stamped, CV_HASH_LEN) == CV_OK &&
                     strlen(label) < sizeof out->label
                 ? CV_OK
                 : cv_fail(CV_EINVAL, "stamp.tx: its arguments lack a hash or a label");
    if (!rc)
        snprintf(out->label, sizeof out->label, "%s", label);
    json_decref(args);
    return rc;
}

int cv_proof_batch_hash(cv_suite suite, const uint8_t root[CV_HASH_LEN], uint64_t count, uint8_t out[CV_HASH_LEN])
{
    uint8_t prefix[9] = {0x02};
    for (int i = 0; i < 8; i++)
        prefix[1 + i] = (uint8_t)(count >> (56 - 8 * i));
    return cv_hash2(suite, prefix, sizeof prefix, root, CV_HASH_LEN, out);
}

int cv_proof_stamp_of(cv_suite suite, const cv_buf *tx, cv_proof_stamp_facts *out)
{
    memset(out, 0, sizeof *out);
    if (cv_tx_decode(tx->data, tx->len, CV_TX_HARD_MAX, &out->tx) != CV_OK)
        return cv_fail(CV_EINVAL, "stamp.tx is not a transaction: %s", cv_errmsg());
    if (out->tx.sender.suite != suite)
        return cv_fail(CV_EINVAL, "stamp.tx is signed with the %s suite; the chain uses %s",
                       cv_suite_name(out->tx.sender.suite), cv_suite_name(suite));
    if (strcmp(out->tx.contract, "notary") != 0 || strcmp(out->tx.method, "stamp") != 0)
        return cv_fail(CV_EINVAL, "stamp.tx calls %.32s.%.32s, not notary.stamp", out->tx.contract,
                       out->tx.method);
    int rc = stamp_args(&out->tx, out);
    if (!rc)
        rc = cv_address_string(&out->tx.sender, out->stamper);
    return rc;
}

/* The attributes of a notary "stamped" event. */
static void stamped_event(const cv_event *ev, cv_proof_result_facts *out)
{
    out->stamped = 1;
    for (size_t i = 0; i < ev->nattrs; i++) {
        const cv_attr *a = &ev->attrs[i];
        if (strcmp(a->key, "hash") == 0)
            snprintf(out->hash, sizeof out->hash, "%s", a->value);
        else if (strcmp(a->key, "label") == 0)
            snprintf(out->label, sizeof out->label, "%s", a->value);
        else if (strcmp(a->key, "org") == 0)
            snprintf(out->org, sizeof out->org, "%s", a->value);
    }
}

int cv_proof_result_of(const cv_buf *result, cv_proof_result_facts *out)
{
    cv_receipt r;
    memset(out, 0, sizeof *out);
    if (cv_receipt_decode(result->data, result->len, &r) != CV_OK)
        return cv_fail(CV_EINVAL, "stamp.result is not a transaction receipt: %s", cv_errmsg());
    memcpy(out->tx_hash, r.tx_hash, CV_HASH_LEN);
    out->status = r.status;
    snprintf(out->error, sizeof out->error, "%s", r.error);
    for (size_t i = 0; i < r.nevents && !out->stamped; i++)
        if (strcmp(r.events[i].contract, "notary") == 0 && strcmp(r.events[i].name, "stamped") == 0)
            stamped_event(&r.events[i], out);
    cv_receipt_free(&r);
    return CV_OK;
}

int cv_proof_format_time(uint64_t time_ms, char out[CV_PROOF_TIME_LEN + 1])
{
    uint64_t secs = time_ms / 1000;
    time_t t = (time_t)secs;
    struct tm tm;
    if (secs > YEAR_9999_END_S || !gmtime_r(&t, &tm))
        return cv_fail(CV_EINVAL, "block time %llu ms is after the year 9999", (unsigned long long)time_ms);
    char seconds[32];
    strftime(seconds, sizeof seconds, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, CV_PROOF_TIME_LEN + 1, "%.19s.%03uZ", seconds, (unsigned)(time_ms % 1000));
    return CV_OK;
}

int cv_proof_header_of(cv_suite suite, const cv_buf *header, cv_proof_header_facts *out)
{
    memset(out, 0, sizeof *out);
    if (cv_header_decode(header->data, header->len, &out->header) != CV_OK)
        return cv_fail(CV_EINVAL, "block.header is not a block header: %s", cv_errmsg());
    int rc = cv_hash(suite, header->data, header->len, out->hash);
    if (!rc && cv_proof_format_time(out->header.time_ms, out->time) != CV_OK)
        rc = cv_fail(CV_EINVAL, "block.header: %s", cv_errmsg());
    return rc;
}
