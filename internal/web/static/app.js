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

// Mark the current tab of each tab bar the server left unmarked: the link
// to this very page (path and query), else the one to this path with no
// query of its own. Exactly one tab per bar is current.
function markTab() {
  document.querySelectorAll("nav.tabs").forEach(function (nav) {
    if (nav.querySelector("a[aria-current]")) { return; }
    var links = Array.prototype.slice.call(nav.querySelectorAll("a"));
    var here = links.filter(function (a) { return a.pathname === location.pathname && a.search === location.search; });
    if (here.length === 0) {
      here = links.filter(function (a) { return a.pathname === location.pathname && a.search === ""; });
    }
    if (here.length > 0) { here[0].setAttribute("aria-current", "page"); }
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

// A user picker suggests directory users as the admin types (by username,
// email or name); without this file it is a plain username field.
function userPicker(input) {
  var list = document.getElementById(input.getAttribute("list"));
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    if (q.length < 2 || !list) { return; }
    timer = setTimeout(function () {
      fetch("/suggest/users?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (users) {
          list.textContent = "";
          users.forEach(function (u) {
            var o = document.createElement("option");
            o.value = u.username;
            o.label = (u.name ? u.name + " · " : "") + u.email;
            list.appendChild(o);
          });
        })
        .catch(function () {});
    }, 200);
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
  document.querySelectorAll("input.user-picker").forEach(userPicker);
  markTab();
});
