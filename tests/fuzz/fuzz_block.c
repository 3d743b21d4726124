/* fuzz_block.c: libFuzzer target for block headers and blocks (ledger/block.h).
 *
 * Every input goes to both cv_header_decode and cv_block_decode (with the
 * hard limits), which must accept it or fail with CV_EDECODE. What either
 * accepts must encode back, with cv_header_encode or cv_block_encode, to
 * exactly the input (one encoding per header and per block), and an
 * accepted block's transactions must lie inside the input. */
#include "fuzz_common.h"
#include "ledger/block.h"

static void header_round_trip(const uint8_t *data, size_t size)
{
    cv_header h;
    int rc = cv_header_decode(data, size, &h);
    FUZZ_REQUIRE(rc == CV_OK || rc == CV_EDECODE);
    if (rc != CV_OK)
        return;
    cv_buf again = {0};
    FUZZ_REQUIRE(cv_header_encode(&h, &again) == CV_OK && fuzz_same(&again, data, size));
    cv_buf_free(&again);
}

static void block_round_trip(const uint8_t *data, size_t size)
{
    cv_block b;
    int rc = cv_block_decode(data, size, CV_BLOCK_TX_HARD_MAX, CV_TX_HARD_MAX, &b);
    FUZZ_REQUIRE(rc == CV_OK || rc == CV_EDECODE);
    if (rc != CV_OK)
        return;
    FUZZ_REQUIRE(b.tx_count == b.header.tx_count);
    for (size_t i = 0; i < b.tx_count; i++)
        FUZZ_REQUIRE(b.tx_lens[i] == 0 || fuzz_inside(b.txs[i], b.tx_lens[i], data, size));
    cv_buf again = {0};
    FUZZ_REQUIRE(cv_block_encode(&b.header, b.txs, b.tx_lens, b.tx_count, &again) == CV_OK);
    FUZZ_REQUIRE(fuzz_same(&again, data, size));
    cv_buf_free(&again);
    cv_block_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    header_round_trip(data, size);
    block_round_trip(data, size);
    return 0;
}
