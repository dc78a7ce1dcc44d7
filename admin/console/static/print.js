// The logins sheet's print button (pages allow no inline script).
document.getElementById("print")?.addEventListener("click", () => window.print());
