// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Slow actions (matching, import, login): show progress and stop double submits.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    var button = event.submitter || form.querySelector("button[type=submit]");
    if (button && button.hasAttribute("data-loading-text")) {
      button.classList.add("is-loading");
      button.textContent = button.getAttribute("data-loading-text");
      window.setTimeout(function () { button.disabled = true; }, 0);
    }
    if (form.hasAttribute("data-busy")) {
      var overlay = document.getElementById("busy-overlay");
      if (overlay) { overlay.textContent = form.getAttribute("data-busy"); overlay.classList.add("on"); }
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.hasAttribute("data-dismiss")) { target.parentElement.remove(); }
    if (target.hasAttribute("data-print")) { window.print(); }
  });

  // Auto-submit filter selects so a list narrows as soon as a choice is made.
  document.querySelectorAll("form.filters select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.requestSubmit(); });
  });

  // A board wider than its box (the deal kanban at 1280–1366 px or on a phone) says that it scrolls.
  document.querySelectorAll(".board-wrap").forEach(function (wrap) {
    var board = wrap.querySelector(".board");
    function update() {
      var scrollable = board.scrollWidth > board.clientWidth + 2;
      wrap.classList.toggle("is-scrollable", scrollable);
      wrap.classList.toggle("at-end", board.scrollLeft + board.clientWidth >= board.scrollWidth - 2);
    }
    board.addEventListener("scroll", update);
    window.addEventListener("resize", update);
    update();
  });

  // Charts: each [data-chart] element names the <script type=application/json> holding its ECharts option.
  function drawCharts() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-chart"));
      if (!source) { return; }
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(JSON.parse(source.textContent));
      window.addEventListener("resize", function () { chart.resize(); });
      el.setAttribute("data-rendered", "true");
    });
  }
  if (document.readyState === "complete") { drawCharts(); } else { window.addEventListener("load", drawCharts); }
})();

// Background jobs, the platform admin's zone picker (web/views/jobs.py, page_extras.py).
(function () {
  "use strict";

  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.requestSubmit(); });
  });

  // A job's page polls its small JSON status and moves the bar; once the job ends the page reloads to
  // show the result (the server renders it, so the page also works without this script).
  document.querySelectorAll("[data-job-status]").forEach(function (box) {
    var url = box.getAttribute("data-job-status");
    var bar = box.querySelector(".progress-bar");
    var text = box.querySelector(".progress-text");
    var state = box.querySelector(".job-state");
    function show(status) {
      var pct = status.percent;
      if (bar) {
        bar.style.width = (pct === null ? 100 : pct) + "%";
        bar.classList.toggle("indeterminate", pct === null);
      }
      box.setAttribute("aria-valuenow", pct === null ? "" : pct);
      if (state) { state.textContent = status.cancelling ? "正在取消…" : status.state_label; }
      if (text) {
        var parts = [status.note || ""];
        if (pct !== null) { parts.push(pct + "%"); }
        text.textContent = parts.join(" ").trim();
      }
    }
    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (status) {
          if (!status) { return; }
          show(status);
          if (status.finished) { window.location.reload(); return; }
          window.setTimeout(poll, 700);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    window.setTimeout(poll, 300);
  });
})();
