/* netaddr.h - IP addresses and CIDR blocks as text comes with them (XSELL_TRUSTED_PROXIES,
 * X-Forwarded-For), and which address a request stands for. */
#ifndef XSELL_NETADDR_H
#define XSELL_NETADDR_H

#include "xsell/common.h"

#define NETADDR_TEXT_MAX 46 /* INET6_ADDRSTRLEN */

struct net_block {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int bits; /* prefix length */
};

/* One address ("10.0.0.1", "::1") or block ("10.0.0.0/8", "fd00::/8") of n bytes. */
int net_block_parse(const char *s, size_t n, struct net_block *out);
/* A comma-separated list into out (at most max); -1 with err naming the bad entry. */
int net_blocks_parse(const char *list, struct net_block *out, int max, int *n, char *err,
                     size_t errlen);
/* Whether the address text addr lies in one of the n blocks (false if not an address;
 * an IPv4-mapped IPv6 address counts as its IPv4 address). */
bool net_blocks_contain(const struct net_block *blocks, int n, const char *addr);
/* The address a request stands for: the peer itself unless the peer is a trusted
 * proxy; then X-Forwarded-For (xff, may be NULL) read from the right, skipping trusted
 * proxies, up to the first address that is not one. An entry that is not an address
 * stops the walk: the last trusted hop is the client then. Into out. */
void net_client_address(const struct net_block *trusted, int ntrusted, const char *peer,
                        const char *xff, char *out, size_t outlen);

#endif
