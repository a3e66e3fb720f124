/* xsell events maintain: keeps the events' partitions (events.h) once, as the
 * training leader does every hour: for a shop whose processes never train, from cron. */
#include "xsell/cmd.h"
#include "xsell/events.h"
#include "xsell/log.h"

int cmd_events(int argc, char **argv)
{
    struct config cfg;
    struct events_maintenance m;
    char err[512];
    if (argc != 1 || strcmp(argv[0], "maintain") != 0) {
        fprintf(stderr, "usage: xsell events maintain\n");
        return 2;
    }
    if (cmd_load_config(&cfg))
        return 1;
    PGconn *c = cmd_connect(&cfg);
    int rc = c ? events_maintain(c, cfg.events_keep_days, now_seconds(), &m, err, sizeof(err)) : -1;
    if (c && rc)
        fprintf(stderr, "xsell events: %s\n", err);
    else if (c)
        printf("{\"keep_days\": %d, \"partitions_made\": %d, \"partitions_dropped\": %d, "
               "\"rows_moved\": %ld, \"rows_expired\": %ld}\n",
               cfg.events_keep_days, m.made, m.dropped, m.moved, m.expired);
    PQfinish(c);
    config_release(&cfg);
    return rc ? 1 : 0;
}
