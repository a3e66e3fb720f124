/* POST /forecast bodies, any bytes: always one answer, 200 or 400, valid JSON, no
 * more points than the horizon asks, and every point's mean a number. */
#include "xsell/handlers.h"

#include "fuzz/fuzz.h"

FUZZ_TARGET(forecast)
{
    struct request req;
    if (fuzz_request(&req, NULL, "/forecast", data, size)) {
        handle_forecast_post(&req);
        if (req.status != 200 && req.status != 400)
            abort();
        cJSON *j = cJSON_ParseWithLength(req.resp_body, req.resp_len);
        if (!j)
            abort();
        if (req.status == 200) {
            const cJSON *p, *points = cJSON_GetObjectItem(j, "points");
            if (cJSON_GetArraySize(points) > 366)
                abort();
            cJSON_ArrayForEach(p, points)
            {
                if (!cJSON_IsNumber(cJSON_GetObjectItem(p, "mean")))
                    abort();
            }
        }
        cJSON_Delete(j);
    }
    fuzz_request_release(&req);
    return 0;
}
