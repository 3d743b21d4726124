/* genesis.h: the genesis document: the chain's identity and first state.
 *
 * A JSON file (docs/GENESIS.md) naming the chain id, the crypto suite, the
 * genesis time, the member organisations, the accounts with their
 * organisation and roles, the validators with voting power, and the chain
 * parameters. Every node of a chain holds the same file; its genesis hash is
 * the suite hash of the file's bytes. */
#ifndef CV_LEDGER_GENESIS_H
#define CV_LEDGER_GENESIS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/suite.h"
#include "ledger/tx.h"

#define CV_ID_MAX 32          /* organisation id, role and parameter names */
#define CV_ORG_NAME_MAX 128
#define CV_ROLES_MAX 8        /* roles one account holds */
#define CV_GENESIS_MAX (4u << 20)

/* The chain's constants, known to every layer that needs them. */
typedef struct {
    char chain_id[CV_CHAIN_ID_MAX + 1];
    cv_suite suite;
    uint8_t genesis_hash[CV_HASH_LEN];
} cv_chain;

typedef struct {
    char id[CV_ID_MAX + 1];
    char name[CV_ORG_NAME_MAX + 1];
} cv_genesis_org;

typedef struct {
    cv_pubkey pub;
    char org[CV_ID_MAX + 1];
    size_t nroles;
    char roles[CV_ROLES_MAX][CV_ID_MAX + 1];
} cv_genesis_account;

typedef struct {
    cv_pubkey pub;
    char org[CV_ID_MAX + 1];
    uint64_t power;
} cv_genesis_validator;

/* Chain parameters: every one has a default; governance can change them. */
typedef struct {
    const char *name;
    uint64_t value;
} cv_param;

typedef struct {
    cv_chain chain;
    uint64_t time_ms;
    size_t norgs, naccounts, nvalidators, nparams;
    cv_genesis_org *orgs;
    cv_genesis_account *accounts;
    cv_genesis_validator *validators;
    cv_param *params; /* every known parameter, defaults filled in */
} cv_genesis;

/* Parses and validates a genesis document (unique org ids, accounts and
 * validators in known orgs, keys of the chain's suite, known parameters in
 * range). Errors name the offending entry. Free with cv_genesis_free. */
int cv_genesis_parse(const char *json, size_t len, cv_genesis *out);
int cv_genesis_load(const char *path, cv_genesis *out);
void cv_genesis_free(cv_genesis *g);

/* Renders g as a genesis document (the inverse of cv_genesis_parse). */
int cv_genesis_to_json(const cv_genesis *g, cv_buf *out);
/* Renders g into a new file at path (the inverse of cv_genesis_load);
 * CV_EEXIST if path exists. */
int cv_genesis_write(const cv_genesis *g, const char *path);

/* The parameter table: names, defaults and limits. */
typedef struct {
    const char *name;
    uint64_t def, min, max;
    const char *doc;
} cv_param_info;
const cv_param_info *cv_params(size_t *count);
const cv_param_info *cv_param_find(const char *name);

#endif
