#!/bin/sh
# Writes a C file holding the named files, in the order given (see embedded.h).
set -eu
echo '#include <string.h>'
echo '#include "xsell/embedded.h"'
i=0
for f in "$@"; do
    printf 'static const unsigned char f%d[] = {\n' "$i"
    od -An -v -tx1 "$f" | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
    printf '0};\n'
    i=$((i + 1))
done
echo 'const struct embedded_file embedded_files[] = {'
i=0
for f in "$@"; do
    printf '    {"%s", f%d, sizeof(f%d) - 1},\n' "$f" "$i" "$i"
    i=$((i + 1))
done
echo '};'
echo 'const size_t embedded_count = sizeof(embedded_files) / sizeof(embedded_files[0]);'
cat <<'C'
const struct embedded_file *embedded_find(const char *name)
{
    for (size_t i = 0; i < embedded_count; i++)
        if (strcmp(embedded_files[i].name, name) == 0)
            return &embedded_files[i];
    return NULL;
}
C
