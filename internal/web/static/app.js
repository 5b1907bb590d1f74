// Progressive enhancement only: every page works without this file.
"use strict";

// Show a block only while a form field has a value: data-show-when="name=value".
// Hidden fields keep their values, and the server re-checks everything.
function syncConditional(form) {
  form.querySelectorAll("[data-show-when]").forEach(function (el) {
    var parts = el.getAttribute("data-show-when").split("=");
    var fields = form.querySelectorAll('[name="' + parts[0] + '"]');
    var shown = false;
    fields.forEach(function (f) {
      if ((f.type === "radio" || f.type === "checkbox") ? (f.checked && (f.value === parts[1] || parts[1] === "on")) : f.value === parts[1]) {
        shown = true;
      }
    });
    el.hidden = !shown;
  });
}

// Mark the current tab of an app's sub-navigation.
function markTab() {
  document.querySelectorAll("nav.tabs a").forEach(function (a) {
    if (a.pathname === location.pathname) { a.setAttribute("aria-current", "page"); }
  });
}

// Stop a double submit of a form that talks to Dropbox.
function guardSubmit(form) {
  form.addEventListener("submit", function () {
    setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form").forEach(function (form) {
    if (form.querySelector("[data-show-when]")) {
      syncConditional(form);
      form.addEventListener("change", function () { syncConditional(form); });
    }
    if (form.method.toLowerCase() === "post") { guardSubmit(form); }
  });
  markTab();
});
