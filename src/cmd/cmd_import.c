/* xsell import products|orders FILE: one CSV, all or nothing (import.h). */
#include <unistd.h>

#include "xsell/cmd.h"
#include "xsell/import.h"
#include "xsell/log.h"

int cmd_import(int argc, char **argv)
{
    struct config cfg;
    enum ingest_kind kind;
    if (argc != 2 || (strcmp(argv[0], "products") != 0 && strcmp(argv[0], "orders") != 0)) {
        fprintf(stderr, "usage: xsell import products|orders FILE   (FILE - reads stdin)\n");
        return 2;
    }
    kind = strcmp(argv[0], "products") == 0 ? INGEST_PRODUCTS : INGEST_ORDERS;
    FILE *in = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "rb");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    if (cmd_load_config(&cfg)) {
        if (in != stdin)
            fclose(in);
        return 1;
    }
    PGconn *c = cmd_connect(&cfg);
    struct ingest_result res;
    char err[600];
    int rc = 1;
    double t0 = mono_seconds();
    if (c && import_csv(c, kind, in, argv[1], isatty(STDERR_FILENO), &res, err, sizeof(err)))
        fprintf(stderr, "xsell: import rejected, nothing was written: %s\n", err);
    else if (c)
        rc = 0;
    double secs = mono_seconds() - t0;
    if (rc == 0 && kind == INGEST_PRODUCTS)
        printf("import products: %ld rows, %ld created, %ld updated, %ld unchanged in %.2fs\n",
               res.rows, res.products_created, res.products_updated,
               res.rows - res.products_created - res.products_updated, secs);
    else if (rc == 0)
        printf("import orders: %ld lines in %.2fs (%.0f lines/s): %ld orders created, "
               "%ld already present, %ld lines created, %ld new products, %ld new customers\n",
               res.rows, secs, secs > 0 ? res.rows / secs : 0.0, res.orders_created,
               res.orders_existing, res.lines_created, res.products_created, res.customers_created);
    PQfinish(c);
    config_release(&cfg);
    if (in != stdin)
        fclose(in);
    return rc;
}
