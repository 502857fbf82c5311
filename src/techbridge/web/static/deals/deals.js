// Map charts: [data-map-chart] names the JSON option; the China GeoJSON is fetched and registered first,
// because app.js draws ordinary charts before any map is known to ECharts.
(function () {
  "use strict";
  function drawMaps() {
    var maps = document.querySelectorAll("[data-map-chart]");
    if (!window.echarts || !maps.length) { return; }
    fetch(maps[0].getAttribute("data-geojson"))
      .then(function (response) { return response.json(); })
      .then(function (geo) {
        window.echarts.registerMap("china", geo);
        maps.forEach(function (el) {
          var option = JSON.parse(document.getElementById(el.getAttribute("data-map-chart")).textContent);
          var chart = window.echarts.init(el, null, { renderer: "svg" });
          chart.setOption(option);
          window.addEventListener("resize", function () { chart.resize(); });
          el.setAttribute("data-rendered", "true");
        });
      });
  }
  if (document.readyState === "complete") { drawMaps(); } else { window.addEventListener("load", drawMaps); }
})();
