/* json.c: byte strings as JSON values (json.h). */
#include "base/json.h"

#include <stdlib.h>

#include "base/buf.h"

#define SMALL 32 /* bytes hexed on the stack: hashes */

json_t *cv_json_hex(const uint8_t *p, size_t n)
{
    char small[2 * SMALL + 1];
    char *text = n <= SMALL ? small : malloc(2 * n + 1);
    if (!text)
        return NULL;
    cv_hex_encode(p, n, text);
    json_t *v = json_stringn_nocheck(text, 2 * n); /* hex is ASCII */
    if (text != small)
        free(text);
    return v;
}
