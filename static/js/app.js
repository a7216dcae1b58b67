// The page's few behaviours, kept out of the HTML so that the Content-Security-Policy can forbid inline
// scripts. A button marked data-print prints the page.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
