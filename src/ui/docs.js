/* /docs: the API reference, openapi.yaml as this server serves it, rendered by Swagger UI
 * (vendored). "Try it out" calls this server with the key given under Authorize. No deep
 * links: Swagger UI puts them inside the operations' buttons (a link in a button). */
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  window.SwaggerUIBundle({
    url: "/openapi.yaml",
    dom_id: "#swagger-ui",
    deepLinking: false,
    validatorUrl: null,
    tryItOutEnabled: false,
    /* the server list's select has no label of its own */
    onComplete: () => {
      const servers = document.getElementById("servers");
      if (servers && !servers.getAttribute("aria-label")) servers.setAttribute("aria-label", "Server");
    },
  });
});
