/* auth.h - API keys and roles. Keys are compared in constant time and never logged. */
#ifndef XSELL_AUTH_H
#define XSELL_AUTH_H

#include "xsell/common.h"

enum role { ROLE_NONE = 0, ROLE_PUBLIC = 1, ROLE_INTERNAL = 2, ROLE_ADMIN = 3 };

#define KEY_ORIGINS_MAX 8 /* origins one key may be bound to */

struct api_key {
    enum role role;
    char *key;
    size_t len;
    /* "role:key@origin|origin": the key is only good with one of these Origin headers
     * (a shop's public key, useless to a script that copied it) */
    char *origins[KEY_ORIGINS_MAX];
    int norigins;
};

const char *role_name(enum role r);
/* Parses "public|internal|admin"; -1 if none. */
int role_parse(const char *s, size_t n, enum role *out);
/* Constant-time in the length of b: the time does not tell where a and b differ. */
bool auth_equal(const char *a, size_t alen, const char *b, size_t blen);
/* The role of the bearer token in an Authorization header value, ROLE_NONE when the
 * header is absent (authorization NULL) or names no configured key. Looks at every key
 * whatever matches, so timing does not reveal which one did. *key_index gets the
 * matching key's index (or -1). */
/* Whether key k may be used from origin (NULL: no Origin header). */
bool auth_origin_ok(const struct api_key *k, const char *origin);
enum role auth_role(const struct api_key *keys, int nkeys, const char *authorization,
                    int *key_index);

#endif
