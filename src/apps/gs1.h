/* gs1.h: GS1 identification keys as civitas trace uses them: GTIN, SSCC and
 * GLN check digits, and product, batch, item, logistic-unit, location and
 * party codes read from GS1 Digital Link URIs (https://HOST[/prefix]/01/
 * {GTIN}[/22/{cpv}][/10/{batch}][/21/{serial}], /00/{SSCC}, /414/{GLN}
 * [/254/{ext}], /417/{GLN}), from EPC URNs (urn:epc:id:sgtin, sscc, sgln,
 * pgln; urn:epc:class:lgtin; urn:epc:idpat:sgtin) or from a bare key path
 * ("01/09521234543213/21/S1").
 *
 * Every code has one canonical key: the path of its canonical Digital Link
 * URI after "https://id.gs1.org/", at the lowest level of identification
 * and without CPV or query string, as the EPCIS event hash ID algorithm
 * (CBV 2.0) canonicalises identifiers. A serialised item written with its
 * batch (01/G/10/L/21/S) keeps the batch aside, so that the item can be
 * traced to it.
 *
 * Batch, serial, CPV and GLN extension values are 1 to 20 characters of
 * letters, digits, '-', '.' and '_' (a subset of GS1's character set 82 that
 * needs no percent-encoding in a URI or an EPC URN). */
#ifndef CV_APPS_GS1_H
#define CV_APPS_GS1_H

#include <stddef.h>

#define CV_GS1_KEY_MAX 64      /* bytes of a canonical key */
#define CV_GS1_INPUT_MAX 512   /* bytes of a code as written */
#define CV_GS1_DOMAIN "https://id.gs1.org/"

typedef enum {
    CV_GS1_GTIN = 1, /* a product class: 01/{GTIN} */
    CV_GS1_LGTIN,    /* a batch: 01/{GTIN}/10/{batch} */
    CV_GS1_SGTIN,    /* an item: 01/{GTIN}/21/{serial} */
    CV_GS1_SSCC,     /* a logistic unit: 00/{SSCC} */
    CV_GS1_SGLN,     /* a location: 414/{GLN}[/254/{ext}] */
    CV_GS1_PGLN,     /* a party: 417/{GLN} */
} cv_gs1_kind;

typedef struct {
    cv_gs1_kind kind;
    char key[CV_GS1_KEY_MAX + 1];   /* canonical key */
    char batch[CV_GS1_KEY_MAX + 1]; /* SGTIN written with a batch: the batch's key, else "" */
} cv_gs1_code;

/* The GS1 mod-10 check digit of digits[0..n) (the key without its check
 * digit). */
int cv_gs1_check_digit(const char *digits, size_t n);

/* Reads a code in any of the forms above; CV_EINVAL naming what is wrong
 * (a bad check digit, qualifiers out of order, a bad character...). */
int cv_gs1_parse(const char *text, cv_gs1_code *out);

/* "https://id.gs1.org/" + key: the canonical Digital Link URI. */
int cv_gs1_uri(const char *key, char *out, size_t cap);

/* The name of a kind: "product", "batch", "item", "logistic unit", ... */
const char *cv_gs1_kind_name(cv_gs1_kind kind);

#endif
