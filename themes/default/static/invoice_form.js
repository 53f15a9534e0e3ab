// The invoice form, as staff type: the server works out each line's amount and the totals (one rule, in one
// place), a new line is added without a round trip, and choosing a saved item fills its line. A file, not
// inline script, for the Content-Security-Policy. Without it the form's own buttons do the same.
(function () {
  "use strict";
  var form = document.querySelector("form.invoice-form");
  if (!form) { return; }
  var lines = document.getElementById("lines");
  var totals = document.getElementById("form-totals");
  var items = document.getElementById("saved-items");
  var timer = null;
  var asking = null;

  function refresh() {
    if (asking) { asking.abort(); }
    asking = new AbortController();
    fetch(form.getAttribute("data-totals-url"), {
      method: "POST", body: new FormData(form), signal: asking.signal, credentials: "same-origin",
      headers: {"Accept": "application/json"}
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (!answer) { return; }
      totals.innerHTML = answer.totals_html;  // rendered, and escaped, by the server
      form.querySelectorAll("[data-line-amount]").forEach(function (output, index) {
        output.textContent = answer.lines[index] || "";
      });
    }).catch(function () { /* a newer request replaced this one, or the network is down: keep the old */ });
  }

  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  }

  function field(line, name) {
    return line.querySelector("[name$='-" + name + "']");
  }

  function fillFromItem(select) {
    var item = items && items.content.querySelector("data[value='" + select.value + "']");
    if (!item) { return; }
    var line = select.closest("[data-line]");
    field(line, "description").value = item.getAttribute("data-name");
    field(line, "unit_price").value = item.getAttribute("data-price");
    field(line, "unit_cost").value = item.getAttribute("data-cost");
    field(line, "tax").value = item.getAttribute("data-tax");
  }

  function addLine(event) {
    event.preventDefault();
    var all = lines.querySelectorAll("[data-line]");
    var copy = all[all.length - 1].cloneNode(true);
    var index = all.length;
    copy.querySelectorAll("[name], [id], [for]").forEach(function (element) {
      ["name", "id", "for"].forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value) { element.setAttribute(attribute, value.replace(/lines-\d+-/, "lines-" + index + "-")); }
      });
    });
    copy.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    copy.querySelectorAll(".field-error").forEach(function (error) { error.remove(); });
    copy.querySelector("legend").textContent = "Line " + (index + 1);
    copy.querySelector("[data-line-amount]").textContent = "";
    field(copy, "quantity").value = "1";
    field(copy, "item").value = "";
    field(copy, "tax").value = form.getAttribute("data-default-tax");
    lines.appendChild(copy);
    field(copy, "item").focus();
  }

  form.addEventListener("input", soon);
  form.addEventListener("change", function (event) {
    if (event.target.matches("[data-item]")) { fillFromItem(event.target); }
    soon();
  });
  form.querySelector("[data-add-line]").addEventListener("click", addLine);
  form.querySelector("[data-recalculate]").hidden = true;
  refresh();
}());
