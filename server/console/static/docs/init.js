// Renders /openapi.json with Swagger UI; "Try it out" calls the API with
// the browser's session cookie, or a bearer token given under Authorize.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  // Swagger UI renders the servers picker without an accessible name
  // (axe: select-name); name it whenever it is (re)rendered.
  new MutationObserver(function () {
    var servers = document.getElementById("servers");
    if (servers && !servers.hasAttribute("aria-label")) {
      servers.setAttribute("aria-label", "Server");
    }
  }).observe(root, { childList: true, subtree: true });
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: false, // deep links nest an anchor inside the operation button (axe: nested-interactive)
    tryItOutEnabled: false,
    withCredentials: true,
  });
});
