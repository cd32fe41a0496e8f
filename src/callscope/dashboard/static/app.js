/* callscope dashboard: charts from embedded specs (Chart.js, bundled) and live sessions (SSE). */
(function () {
  "use strict";
  var PALETTE = ["#3a5bd9", "#1f9d6b", "#d99a1e", "#d2483f", "#8a4fd1", "#1aa3b8", "#7a8499",
                 "#e0669b", "#5d8c2c", "#b8672e"];

  function fmt(v, unit) {
    if (v === null || v === undefined || isNaN(v)) return "–";
    var n = Number(v);
    var s = Math.abs(n) >= 100 ? Math.round(n).toLocaleString() : (Math.round(n * 100) / 100).toLocaleString();
    return unit ? s + " " + unit : s;
  }

  function buildChart(canvas) {
    if (typeof Chart === "undefined") return;
    var spec;
    try { spec = JSON.parse(canvas.getAttribute("data-chart")); } catch (e) { return; }
    var type = spec.type || "line";
    var round = type === "doughnut" || type === "pie";
    var datasets = (spec.datasets || []).map(function (d, i) {
      var color = d.color || PALETTE[i % PALETTE.length];
      var ds = {
        label: d.label, data: d.data, borderColor: color, pointRadius: type === "line" ? 1.5 : 0,
        borderWidth: type === "line" ? 2 : 0, tension: 0.25, spanGaps: true,
        backgroundColor: round ? (d.colors || PALETTE) : color + (type === "line" ? "22" : "cc")
      };
      if (d.dashed) { ds.borderDash = [6, 4]; ds.borderWidth = 1.5; ds.pointRadius = 0; ds.fill = false; }
      if (d.stack) ds.stack = d.stack;
      return ds;
    });
    // Thresholds from the profile are drawn as flat dashed lines across the whole range.
    (spec.thresholds || []).forEach(function (t) {
      datasets.push({ label: t.label, data: spec.labels.map(function () { return t.value; }),
        borderColor: "#d2483f", borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0, fill: false,
        type: "line", stack: "threshold-" + t.label });
    });
    var scales = {};
    if (!round) {
      scales = {
        x: { stacked: !!spec.stacked, grid: { display: false }, ticks: { maxTicksLimit: 10, autoSkip: true } },
        y: { stacked: !!spec.stacked, beginAtZero: true, grid: { color: "#eef0f4" },
             title: { display: !!spec.unit, text: spec.unit || "" } }
      };
      if (spec.min !== undefined) { scales.y.min = spec.min; scales.y.beginAtZero = false; }
      if (spec.max !== undefined) scales.y.max = spec.max;
      if (spec.horizontal) {
        var t = scales.x; scales.x = scales.y; scales.y = t;
        // Category labels of a horizontal bar are the point of the chart: show every one.
        scales.y.ticks = { autoSkip: false, font: { size: 11 } };
      }
    }
    canvas._chart = new Chart(canvas, {
      type: type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        indexAxis: spec.horizontal ? "y" : "x",
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: datasets.length > 1 || round, position: round ? "right" : "bottom",
                    labels: { boxWidth: 12, font: { size: 11 } } },
          tooltip: { callbacks: { label: function (c) {
            var v = c.parsed && typeof c.parsed === "object" ? (spec.horizontal ? c.parsed.x : c.parsed.y) : c.parsed;
            return (c.dataset.label ? c.dataset.label + ": " : (c.label ? c.label + ": " : "")) + fmt(v, spec.unit);
          } } }
        },
        scales: scales,
        onClick: spec.drill ? function (evt, els) { drill(canvas, spec, els); } : undefined,
        onHover: spec.drill ? function (evt, els) {
          evt.native.target.style.cursor = els.length ? "pointer" : "default"; } : undefined
      }
    });
  }

  // A click on a bar, slice or point opens the calls behind it (the session list, filtered).
  function drill(canvas, spec, els) {
    if (!els || !els.length) return;
    var i = els[0].index;
    var value = (spec.ids || spec.labels)[i];
    if (value === undefined || value === "other") return;
    var base = canvas.getAttribute("data-drill-base") || "";
    var params = new URLSearchParams(base);
    if (spec.drill === "day") { params.set("start", value); params.set("end", value); }
    else params.set(spec.drill, value);
    window.location.href = "/sessions?" + params.toString();
  }

  // Real-time numbers pushed by the server ("tick" events) replace the page's values.
  function onTick(t) {
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var key = el.getAttribute("data-live");
      if (!(key in t)) return;
      var v = t[key];
      if (key === "as_of") el.textContent = String(v).replace("T", " ").slice(0, 19);
      else if (key === "active_calls") el.textContent = t.active_source === "livekit_webhooks" ? String(v) : "–";
      else if (key === "last_hour_avg_latency_ms") el.textContent = v === null ? "–" : Math.round(v).toLocaleString() + " ms";
      else if (key === "last_hour_tokens_per_minute") el.textContent = fmt(v, "tok/min");
      else if (key === "last_hour_cost_per_hour") el.textContent = "$" + Number(v).toFixed(2) + "/h";
      else el.textContent = fmt(v);
      el.setAttribute("data-updated", t.as_of);
    });
    var through = document.getElementById("data-through");
    if (through && t.data_through) through.textContent = " · data through " + String(t.data_through).replace("T", " ").slice(0, 19);
  }

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function onSession(s) {
    var feed = document.getElementById("live-feed");
    if (feed) {
      var li = document.createElement("li");
      li.innerHTML = '<a href="/sessions/' + encodeURIComponent(s.session_id) + '">' + esc(s.session_id) +
        "</a> · " + esc(s.tier_label || "");
      feed.insertBefore(li, feed.firstChild);
      while (feed.children.length > 8) feed.removeChild(feed.lastChild);
    }
    var body = document.getElementById("sessions-body");
    if (body && body.getAttribute("data-live") === "1") {
      var tr = document.createElement("tr");
      tr.className = "new";
      tr.setAttribute("data-session", s.session_id);
      tr.innerHTML = '<td><a href="/sessions/' + encodeURIComponent(s.session_id) + '">' + esc(s.session_id) +
        "</a></td><td>" + esc(s.started_at) + "</td><td>" + esc(s.agent_name) + " " + esc(s.agent_version) +
        '</td><td class="num">' + fmt(s.duration_seconds) + '</td><td><span class="tag ' + esc(s.tier_class) + '" data-tier="' + esc(s.tier) + '">' +
        esc(s.tier_label) + '</span></td><td class="num">' + esc(s.lead_score) + "</td><td>" +
        (s.meeting_booked ? '<span class="tag good">booked</span>' : "") + "</td><td>" + esc(s.sentiment) + "</td>";
      body.insertBefore(tr, body.firstChild);
    }
    // Count the call only if it started on the day the KPI shows (today, or the last day
    // of a range in the past).
    var today = document.querySelector('[data-testid="kpi-calls-today"] .kpi-value');
    var shown = document.querySelector("[data-day]");
    var day = shown ? shown.getAttribute("data-day") : "";
    if (today && day && String(s.started_at || "").slice(0, 10) === day) {
      var n = parseInt(today.textContent.replace(/[^0-9]/g, ""), 10) || 0;
      today.textContent = (n + 1).toLocaleString();
    }
    var count = document.getElementById("live-count");
    if (count) count.textContent = String((parseInt(count.textContent, 10) || 0) + 1);
  }

  function startLive() {
    if (!window.EventSource) return;
    var dot = document.getElementById("live-dot");
    var es = new EventSource("/events");
    es.addEventListener("open", function () { if (dot) dot.classList.add("on"); });
    es.addEventListener("error", function () { if (dot) dot.classList.remove("on"); });
    es.addEventListener("tick", function (e) {
      try { onTick(JSON.parse(e.data)); } catch (err) { /* a malformed event is skipped */ }
    });
    es.addEventListener("session", function (e) {
      try { onSession(JSON.parse(e.data)); } catch (err) { /* a malformed event is skipped */ }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(buildChart);
    startLive();
  });
})();
