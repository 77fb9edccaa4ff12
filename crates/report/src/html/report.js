// Filters the results table: by status, control, account, region and framework, and by words
// searched in each result's text. Plain script, no network: it works from file://.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("netaudit-data").textContent);
  var rows = document.querySelectorAll("#findings-rows > tr");
  var fields = ["status", "control", "account", "region"];
  var select = function (field) { return document.getElementById("filter-" + field); };
  var search = document.getElementById("filter-search");
  var shown = document.getElementById("shown-count");

  function apply() {
    var wanted = {};
    fields.forEach(function (field) { wanted[field] = select(field).value; });
    var framework = select("framework").value;
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var count = 0;
    data.rows.forEach(function (row, i) {
      var keep = fields.every(function (field) { return !wanted[field] || row[field] === wanted[field]; }) &&
        (!framework || row.frameworks.indexOf(framework) >= 0) &&
        words.every(function (word) { return row.text.indexOf(word) >= 0; });
      rows[i].hidden = !keep;
      if (keep) { count += 1; }
    });
    shown.textContent = count + " of " + data.rows.length + " results";
  }

  fields.concat(["framework"]).forEach(function (field) { select(field).addEventListener("change", apply); });
  search.addEventListener("input", apply);
  document.querySelectorAll("[data-filter-status]").forEach(function (card) {
    card.addEventListener("click", function () {
      var status = card.getAttribute("data-filter-status");
      var option = select("status").querySelector("option[value='" + status + "']");
      select("status").value = option ? status : "";
      apply();
      document.getElementById("findings").scrollIntoView();
    });
  });
  apply();
})();
