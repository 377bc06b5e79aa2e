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
