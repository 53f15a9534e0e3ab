// Buttons marked data-print open the browser's print dialog (a file, not an inline handler: the
// Content-Security-Policy runs no inline script without the page's nonce).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
