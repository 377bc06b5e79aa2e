// Renders /openapi.json with Swagger UI; "Try it out" calls the API with
// the browser's session cookie, or a bearer token given under Authorize.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: false, // deep links nest an anchor inside the operation button (axe: nested-interactive)
    tryItOutEnabled: false,
    withCredentials: true,
  });
});
