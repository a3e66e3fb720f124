/* xsell migrate: applies sql/ (embedded in the binary) to the database. */
#include "xsell/cmd.h"
#include "xsell/migrate.h"

int cmd_migrate(int argc, char **argv)
{
    struct config cfg;
    UNUSED(argv);
    if (argc != 0) {
        fprintf(stderr, "usage: xsell migrate\n");
        return 2;
    }
    if (cmd_load_config(&cfg))
        return 1;
    PGconn *c = cmd_connect(&cfg);
    int n = c ? migrate_apply(c) : -1;
    PQfinish(c);
    config_release(&cfg);
    if (n < 0)
        return 1;
    printf(n ? "migrate: applied %d file(s)\n" : "migrate: up to date\n", n);
    return 0;
}
