/* fuzz_receipt.c: libFuzzer target for the receipt decoder (ledger/receipt.h).
 *
 * Every input goes to cv_receipt_decode, which must accept it or fail with
 * CV_EDECODE; what it accepts must stay within the receipt limits and encode
 * back, with cv_receipt_encode, to exactly the input (one encoding per
 * receipt). */
#include "fuzz_common.h"
#include "ledger/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cv_receipt r;
    int rc = cv_receipt_decode(data, size, &r);
    FUZZ_REQUIRE(rc == CV_OK || rc == CV_EDECODE);
    if (rc != CV_OK)
        return 0;
    FUZZ_REQUIRE(r.nevents <= CV_EVENTS_MAX && (r.nevents == 0) == (r.events == NULL));
    for (size_t i = 0; i < r.nevents; i++)
        FUZZ_REQUIRE(r.events[i].nattrs <= CV_ATTRS_MAX);
    cv_buf again = {0};
    FUZZ_REQUIRE(cv_receipt_encode(&r, &again) == CV_OK && fuzz_same(&again, data, size));
    cv_buf_free(&again);
    cv_receipt_free(&r);
    return 0;
}
