/* notary.h: the evidence-preservation contract (存证): stamp a hash with an
 * optional label; anyone can then ask who stamped it, in which block and
 * transaction, and when (docs/LEDGER.md, "notary"). */
#ifndef CV_APPS_NOTARY_H
#define CV_APPS_NOTARY_H

#include "exec/contract.h"

#define CV_NOTARY_LABEL_MAX 256

extern const cv_contract cv_notary_contract;

#endif
