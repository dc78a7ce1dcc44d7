// The merchant page works without this file. It keeps a double tap from posting a form twice; camera
// scanning is the web layer's (/merchant/static/web/scanner.js).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-once]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button")) button.disabled = true;
    });
  }
});
