/* registry.c: the system contracts of the chain, found by name, and their
 * self-description for clients. A new application adds one line to
 * `contracts`. */
#include <string.h>

#include "apps/gov.h"
#include "apps/notary.h"
#include "apps/trace.h"
#include "base/err.h"
#include "exec/internal.h"

static const cv_contract *const contracts[] = {
    &cv_gov_contract,
    &cv_notary_contract,
    &cv_trace_contract,
};

const cv_contract *const *cv_exec_contracts(size_t *count)
{
    *count = sizeof contracts / sizeof contracts[0];
    return contracts;
}

const cv_contract *cv_exec_contract(const char *name)
{
    for (size_t i = 0; i < sizeof contracts / sizeof contracts[0]; i++)
        if (strcmp(contracts[i]->name, name) == 0)
            return contracts[i];
    cv_fail(CV_ENOTFOUND, "unknown contract '%.40s'", name);
    return NULL;
}

const cv_method *cv_exec_method(const cv_contract *c, const char *name)
{
    for (size_t i = 0; i < c->nmethods; i++)
        if (strcmp(c->methods[i].name, name) == 0)
            return &c->methods[i];
    cv_fail(CV_ENOTFOUND, "contract %s has no method '%.40s'", c->name, name);
    return NULL;
}

static json_t *describe_method(const cv_method *m)
{
    json_t *args = json_array();
    for (size_t i = 0; i < m->nargs; i++) {
        const cv_arg_spec *a = &m->args[i];
        json_t *arg = json_pack("{s:s, s:s}", "name", a->name, "type", cv_exec_arg_type_name(a->type));
        if ((a->type == CV_ARG_UINT || a->type == CV_ARG_STR || a->type == CV_ARG_BYTES) &&
            a->max <= INT64_MAX)
            json_object_set_new(arg, "max", json_integer((json_int_t)a->max));
        json_array_append_new(args, arg);
    }
    return json_pack("{s:s, s:s, s:b, s:s?, s:o}", "name", m->name, "doc", m->doc, "query", m->readonly,
                     "role", m->role, "args", args);
}

json_t *cv_exec_describe(void)
{
    json_t *list = json_array();
    for (size_t i = 0; i < sizeof contracts / sizeof contracts[0]; i++) {
        const cv_contract *c = contracts[i];
        json_t *methods = json_array();
        for (size_t j = 0; j < c->nmethods; j++)
            json_array_append_new(methods, describe_method(&c->methods[j]));
        json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "name", c->name, "doc", c->doc,
                                              "methods", methods));
    }
    return list;
}
