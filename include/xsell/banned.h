/* banned.h - libc calls we never use; a use fails to compile (an undeclared
 * function under -Werror). Bounded alternatives: snprintf, memcpy with a checked
 * length, strparse_*(). */
#ifndef XSELL_BANNED_H
#define XSELL_BANNED_H

#undef strcpy
#define strcpy sorry_strcpy_is_banned_in_xsell
#undef strcat
#define strcat sorry_strcat_is_banned_in_xsell
#undef strncpy
#define strncpy sorry_strncpy_is_banned_in_xsell
#undef sprintf
#define sprintf sorry_sprintf_is_banned_in_xsell
#undef vsprintf
#define vsprintf sorry_vsprintf_is_banned_in_xsell
#undef gets
#define gets sorry_gets_is_banned_in_xsell
#undef atoi
#define atoi sorry_atoi_is_banned_in_xsell
#undef atol
#define atol sorry_atol_is_banned_in_xsell
#undef atof
#define atof sorry_atof_is_banned_in_xsell

#endif
