// Starts Swagger UI on /docs (a file, not an inline script, so the page's CSP allows it).
// The OpenAPI address comes from the element's data attribute; the online validator badge
// is off, so the page asks no host but this server.
"use strict";
(function () {
  var element = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: element.getAttribute("data-openapi"),
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    showExtensions: true,
  });
})();
