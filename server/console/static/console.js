// Tollgate console: small enhancements. Every page works without them.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  // Copy buttons: data-copy names the field whose value to copy.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.dataset.copy);
      if (!field) return;
      var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 2000); };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
      } else {
        field.select();
        document.execCommand("copy");
        done();
      }
    });
  });

  // Character counters: data-counter is the limit, counted in characters.
  document.querySelectorAll("[data-counter]").forEach(function (area) {
    var limit = parseInt(area.dataset.counter, 10);
    var out = document.getElementById(area.id + "-count");
    var update = function () {
      var n = Array.from(area.value).length;
      out.textContent = n + " / " + limit;
      out.classList.toggle("over", n > limit);
      area.setAttribute("aria-invalid", n > limit ? "true" : "false");
    };
    area.addEventListener("input", update);
    update();
  });

  // Service account names: the rule of the server, checked as you type.
  document.querySelectorAll("[data-validate=sa-name]").forEach(function (input) {
    var out = document.getElementById(input.id + "-error");
    input.addEventListener("input", function () {
      var v = input.value, msg = "";
      if (v.length > 20) msg = "The name must be at most 20 characters (it has " + v.length + ").";
      else if (/[^A-Za-z0-9_-]/.test(v)) msg = "Use only letters, digits, - and _: no spaces or other special characters.";
      out.textContent = msg;
      out.hidden = msg === "";
      input.setAttribute("aria-invalid", msg ? "true" : "false");
    });
  });
});

// Token rows: right-click opens the row's menu (the same one its ⋯ button
// opens), and Escape closes it; keyboard users reach it through the button.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("tr[data-menu]").forEach(function (row) {
    row.addEventListener("contextmenu", function (e) {
      var menu = document.getElementById(row.dataset.menu);
      if (!menu) return;
      e.preventDefault();
      document.querySelectorAll("details.menu[open]").forEach(function (m) { if (m !== menu) m.open = false; });
      menu.open = true;
      var first = menu.querySelector("a, button");
      if (first) first.focus();
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (m) {
      m.open = false;
      m.querySelector("summary").focus();
    });
  });
});

// Token lifetime: 5 minutes to 30 days, in the chosen unit, as you type.
document.addEventListener("DOMContentLoaded", function () {
  var input = document.querySelector("[data-validate=sa-ttl]");
  if (!input) return;
  var unit = document.getElementById("sa-ttl-unit");
  var out = document.getElementById("sa-ttl-error");
  var seconds = { minutes: 60, hours: 3600, days: 86400 };
  var check = function () {
    var n = Number(input.value), s = n * (seconds[unit.value] || 0), msg = "";
    if (input.value !== "" && (!Number.isInteger(n) || s < 300 || s > 2592000)) {
      msg = "Choose between 5 minutes and 30 days.";
    }
    out.textContent = msg;
    out.hidden = msg === "";
    input.setAttribute("aria-invalid", msg ? "true" : "false");
  };
  input.addEventListener("input", check);
  unit.addEventListener("change", check);
});

// Public tokens' domains: the box shows only for the kind that uses it,
// and each line is checked as you type with the server's own rules and
// words (origin.Normalize), so a wildcard or a path is caught before the
// form is sent. The server checks again.
function originError(line) {
  var s = line.trim();
  var q = JSON.stringify(s);
  if (s === "") return "The domain is empty.";
  if (s.length > 2048) return "The domain is longer than 2048 characters.";
  if (s.indexOf("*") >= 0) return "Wildcards are not supported: list each subdomain as its own origin, such as https://app.example.com.";
  if (s.startsWith("//")) return q + " has no scheme: write it as https:" + s + " or http:" + s + ".";
  var i = s.indexOf("://");
  if (i < 0) return q + " is not a full origin: write it with its scheme, such as https://" + s.replace(/\/+$/, "") + ".";
  var scheme = s.slice(0, i).toLowerCase(), rest = s.slice(i + 3);
  if (/[?#]/.test(rest)) return q + " has a query or fragment: an origin is only a scheme, a host and a port.";
  var slash = rest.indexOf("/");
  var hostport = slash < 0 ? rest : rest.slice(0, slash);
  if (slash >= 0 && rest.slice(slash + 1) !== "") return q + " has a path: an origin is only a scheme, a host and a port (a trailing / is fine).";
  if (hostport.indexOf("@") >= 0) return q + " has a user name or password: an origin is only a scheme, a host and a port.";
  if (scheme !== "http" && scheme !== "https") return "The scheme must be http or https, not " + JSON.stringify(scheme) + ".";
  var host = hostport, colon = hostport.lastIndexOf(":");
  if (colon >= 0 && !hostport.endsWith("]")) {
    host = hostport.slice(0, colon);
    var port = hostport.slice(colon + 1);
    if (port === "") return "The port is empty.";
    var n = Number(port);
    if (!/^[1-9][0-9]*$/.test(port) || n > 65535) return JSON.stringify(port) + " is not a port number from 1 to 65535.";
  }
  if (host === "") return "The host is missing.";
  return ""; // host names are checked by the server (IDNA)
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-shown-for-kind]").forEach(function (row) {
    var radios = document.querySelectorAll("input[name=kind]");
    var update = function () {
      var checked = document.querySelector("input[name=kind]:checked");
      row.hidden = !checked || checked.value !== row.dataset.shownForKind;
    };
    radios.forEach(function (r) { r.addEventListener("change", update); });
    update();
  });
  document.querySelectorAll("[data-validate=origins]").forEach(function (area) {
    var out = document.getElementById(area.getAttribute("aria-describedby"));
    area.addEventListener("input", function () {
      var lines = area.value.split("\n").map(function (l) { return l.trim(); }).filter(function (l) { return l !== ""; });
      var msg = "";
      for (var i = 0; i < lines.length && !msg; i++) {
        var e = originError(lines[i]);
        if (e) msg = lines.length > 1 ? "Domain " + (i + 1) + ": " + e : e;
      }
      out.textContent = msg;
      out.hidden = msg === "";
      delete out.dataset.from; // what the server said no longer stands
      area.setAttribute("aria-invalid", msg ? "true" : "false");
    });
  });
});
