/* gov.h: the governance contract: member organisations, accounts and their
 * roles, validators and chain parameters, changed by a threshold of the
 * organisations' votes (docs/LEDGER.md, "gov"). Other contracts and the
 * executor read accounts and parameters through the helpers below. */
#ifndef CV_APPS_GOV_H
#define CV_APPS_GOV_H

#include <stdint.h>

#include "exec/contract.h"
#include "ledger/genesis.h"

#define CV_GOV_VALIDATORS_MAX 128          /* validators a chain can have */
#define CV_GOV_VALIDATOR_PREFIX "val/"     /* gov's validator records: this || address */

extern const cv_contract cv_gov_contract;

/* The account at addr; CV_ENOTFOUND (without a message) if there is none. */
int cv_gov_account(const cv_call *call, const uint8_t addr[CV_ADDR_LEN], cv_account *out);

/* CV_OK if org is a current member organisation; CV_ENOTFOUND (without a
 * message) if it never was or was removed. */
int cv_gov_org_active(const cv_call *call, const char *org);

/* A chain parameter's value: as last set by governance, else its default.
 * CV_ENOTFOUND naming it if the parameter is unknown. */
int cv_gov_param(const cv_call *call, const char *name, uint64_t *value);

/* The validators in call's state, in address order: up to max (else
 * CV_EFULL), their count in *n. */
int cv_gov_validators(const cv_call *call, cv_genesis_validator *out, size_t max, size_t *n);

#endif
