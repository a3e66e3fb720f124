/* banned.h - libc calls we never use; a use fails to compile.
 * Bounded alternatives: snprintf, memcpy with a checked length, strparse_*(). */
#ifndef XSELL_BANNED_H
#define XSELL_BANNED_H

#define BANNED(f) sorry_##f##_is_banned_in_xsell

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef atof
#define atof(x) BANNED(atof)

#endif
