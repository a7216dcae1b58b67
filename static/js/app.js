// The page's few behaviours, kept out of the HTML so that the Content-Security-Policy can forbid inline
// scripts. A button marked data-print prints the page.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});

// Phones show each table row as a card; a cell without a data-label gets its column's heading, so the
// card says what each figure is (the page works without this: the cells are still there in order).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("table.list").forEach(function (table) {
    var heads = table.querySelectorAll("thead tr:last-child th");
    if (!heads.length) return;
    var labels = [];
    heads.forEach(function (th) {
      var span = th.colSpan || 1;
      for (var i = 0; i < span; i++) labels.push(th.textContent.trim());
    });
    table.querySelectorAll("tbody tr, tfoot tr").forEach(function (tr) {
      var col = 0;
      Array.prototype.forEach.call(tr.children, function (cell) {
        if (!cell.hasAttribute("data-label") && labels[col] && cell.colSpan === 1) {
          cell.setAttribute("data-label", labels[col]);
        }
        col += cell.colSpan || 1;
      });
    });
  });
});
