/* openapi.h - answers checked against openapi.yaml, for the tests (unit and
 * integration alike): the document is read with libyaml into a cJSON tree, and a
 * body is checked against the schema of its route, method and status: types
 * (object, array, string, number, integer, boolean), nullable, required members,
 * properties and items recursively, string enums, oneOf, and $ref into components. */
#ifndef XSELL_TEST_OPENAPI_H
#define XSELL_TEST_OPENAPI_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* The document at path as a cJSON tree (cJSON_Delete), or NULL with why. */
cJSON *openapi_load(const char *path, char *why, size_t whylen);
/* The same from text in memory. */
cJSON *openapi_parse(const char *text, size_t len, char *why, size_t whylen);

/* Checks body against the response schema of method and request path (a query is
 * ignored; a path like /products/x matches /products/{id}) for status. 0 when it
 * conforms; -1 with why naming the first member that does not (or the route, method
 * or status the document lacks). */
int openapi_check(const cJSON *spec, const char *method, const char *path, long status,
                  const cJSON *body, char *why, size_t whylen);

#endif
