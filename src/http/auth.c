#include "xsell/auth.h"

#include <strings.h>

const char *role_name(enum role r)
{
    switch (r) {
    case ROLE_PUBLIC:
        return "public";
    case ROLE_INTERNAL:
        return "internal";
    case ROLE_ADMIN:
        return "admin";
    default:
        return "none";
    }
}

int role_parse(const char *s, size_t n, enum role *out)
{
    static const enum role roles[] = {ROLE_PUBLIC, ROLE_INTERNAL, ROLE_ADMIN};
    for (size_t i = 0; i < ARRAY_SIZE(roles); i++) {
        const char *name = role_name(roles[i]);
        if (strlen(name) == n && memcmp(name, s, n) == 0) {
            *out = roles[i];
            return 0;
        }
    }
    return -1;
}

bool auth_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    volatile unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < blen; i++) {
        unsigned char ca = i < alen ? (unsigned char)a[i] : 0;
        diff |= (unsigned char)(ca ^ (unsigned char)b[i]);
    }
    return diff == 0;
}

bool auth_origin_ok(const struct api_key *k, const char *origin)
{
    if (k->norigins == 0)
        return true;
    for (int i = 0; origin && i < k->norigins; i++)
        if (strcmp(k->origins[i], origin) == 0)
            return true;
    return false;
}

enum role auth_role(const struct api_key *keys, int nkeys, const char *authorization,
                    int *key_index)
{
    static const char bearer[] = "Bearer ";
    enum role role = ROLE_NONE;
    *key_index = -1;
    if (!authorization || strncasecmp(authorization, bearer, sizeof(bearer) - 1) != 0)
        return ROLE_NONE;
    const char *tok = authorization + sizeof(bearer) - 1;
    while (*tok == ' ')
        tok++;
    size_t tlen = strlen(tok);
    while (tlen && tok[tlen - 1] == ' ')
        tlen--;
    for (int i = 0; i < nkeys; i++) {
        bool eq = auth_equal(tok, tlen, keys[i].key, keys[i].len);
        if (eq && role == ROLE_NONE) {
            role = keys[i].role;
            *key_index = i;
        }
    }
    return role;
}
