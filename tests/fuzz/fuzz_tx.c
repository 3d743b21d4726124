/* fuzz_tx.c: libFuzzer target for the transaction decoder (ledger/tx.h).
 *
 * Every input goes to cv_tx_decode, which must accept it or fail with
 * CV_EDECODE. An accepted transaction must be consistent: its body and
 * arguments lie inside the input, its hashes are the suite hashes of the body
 * and of the whole input, writing the body and signature back with the codec
 * gives exactly the input (one encoding per transaction), and checking its
 * signature answers yes or no without crashing. */
#include "codec/codec.h"
#include "fuzz_common.h"
#include "ledger/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cv_tx tx;
    int rc = cv_tx_decode(data, size, CV_TX_HARD_MAX, &tx);
    FUZZ_REQUIRE(rc == CV_OK || rc == CV_EDECODE);
    if (rc != CV_OK)
        return 0;
    FUZZ_REQUIRE(fuzz_inside(tx.body, tx.body_len, data, size));
    FUZZ_REQUIRE(tx.args_len == 0 || fuzz_inside(tx.args, tx.args_len, tx.body, tx.body_len));

    uint8_t h[CV_HASH_LEN];
    FUZZ_REQUIRE(cv_hash(tx.sender.suite, tx.body, tx.body_len, h) == CV_OK &&
                 memcmp(h, tx.body_hash, CV_HASH_LEN) == 0);
    FUZZ_REQUIRE(cv_hash(tx.sender.suite, data, size, h) == CV_OK &&
                 memcmp(h, tx.hash, CV_HASH_LEN) == 0);

    cv_buf again = {0};
    cv_enc e;
    cv_enc_init(&e, &again);
    cv_enc_msg_encoded(&e, 1, tx.body, tx.body_len);
    cv_enc_bytes(&e, 2, tx.sig.bytes, tx.sig.len);
    FUZZ_REQUIRE(cv_enc_finish(&e) == CV_OK);
    FUZZ_REQUIRE(fuzz_same(&again, data, size));
    cv_buf_free(&again);

    rc = cv_tx_verify(&tx);
    FUZZ_REQUIRE(rc == CV_OK || rc == CV_EBADSIG);
    return 0;
}
