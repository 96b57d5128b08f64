// Draws the outcome charts from the JSON in the page (no outside requests).
(function () {
  var data = JSON.parse(document.getElementById("outcomes-data").textContent);
  if (typeof Chart === "undefined") { return; }
  new Chart(document.getElementById("by-month"), {
    type: "bar",
    data: { labels: data.months, datasets: [
      { label: "つなぎ件数", data: data.handoffs, backgroundColor: "#0b5394" },
      { label: "危険のサイン", data: data.crisis, backgroundColor: "#a61b1b" } ] },
    options: { animation: false }
  });
  new Chart(document.getElementById("by-section"), {
    type: "bar",
    data: { labels: data.section_names, datasets: [ { label: "件数", data: data.section_counts, backgroundColor: "#3e7cb1" } ] },
    options: { animation: false, indexAxis: "y" }
  });
})();
