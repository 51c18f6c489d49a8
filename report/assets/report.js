// Faultline report: the zoomable timeline and small conveniences. Plain
// JavaScript with no dependency, so the report works offline.
(function () {
  "use strict";

  document.querySelectorAll("button.copy").forEach(function (b) {
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (!el) return;
      var text = el.textContent;
      if (navigator.clipboard) {
        navigator.clipboard.writeText(text).then(function () { b.textContent = "copied"; });
      } else {
        var r = document.createRange(); r.selectNodeContents(el);
        var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
      }
    });
  });

  var dataEl = document.getElementById("timeline-data");
  var canvas = document.getElementById("tl-canvas");
  if (!dataEl || !canvas || !canvas.getContext) return;
  var td;
  try { td = JSON.parse(dataEl.textContent || "{}"); } catch (e) { return; }
  if (!td || !td.ops) { return; }

  var OUT = ["ok", "fail", "info", "pending"];
  var OUT_COLOR = ["#2e7d32", "#c62828", "#8e44ad", "#9e9e9e"];
  var ops = td.ops; // [id, row, f, key, start, end, outcome, value, node, flagged]
  var rows = Math.max(td.procs.length, 1);
  var end = Math.max(td.end || 0, 1);
  ops.forEach(function (o) { end = Math.max(end, o[5]); });
  var byRow = [];
  for (var r = 0; r < rows; r++) byRow.push([]);
  var byId = {};
  ops.forEach(function (o) { byRow[o[1]].push(o); byId[o[0]] = o; });

  // Fault lanes: one 14 px strip each above the operations, so faults
  // active at once are drawn side by side.
  var LANES = Math.max(1, td.lanes || 1), LANE_H = 14;
  var AXIS = 20 + LANES * LANE_H, GUTTER = 52, RIGHT = 8;
  var rowH = Math.max(3, Math.min(22, Math.floor(560 / rows)));
  var home = Math.min(Math.max(td.start || 0, 0), end - 1);
  var view = { t0: home, t1: end };
  var selected = null;
  var ctx = canvas.getContext("2d");
  var tip = document.getElementById("tl-tip");
  var detail = document.getElementById("tl-detail");
  var windowLabel = document.getElementById("tl-window");

  function width() { return canvas.clientWidth || 1000; }
  function x(t) { return GUTTER + (t - view.t0) / (view.t1 - view.t0) * (width() - GUTTER - RIGHT); }
  function tAt(px) { return view.t0 + (px - GUTTER) / (width() - GUTTER - RIGHT) * (view.t1 - view.t0); }
  function fmt(ms) {
    var s = ms / 1000;
    return Math.abs(s) >= 100 ? s.toFixed(0) + " s" : Math.abs(s) >= 10 ? s.toFixed(1) + " s" : s.toFixed(3) + " s";
  }
  function niceStep(x) {
    var p = Math.pow(10, Math.floor(Math.log10(x)));
    var ms = [1, 2, 5, 10];
    for (var i = 0; i < ms.length; i++) if (ms[i] * p >= x) return ms[i] * p;
    return 10 * p;
  }
  function hexAlpha(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16 & 255) + "," + (n >> 8 & 255) + "," + (n & 255) + "," + a + ")";
  }

  // faultLabel names a fault band: its kind, and the variant the nemesis
  // recorded (e.g. "partition: isolate-node") when there is one.
  function faultLabel(f) {
    try {
      var d = JSON.parse(f[3] || "null");
      if (d && typeof d.kind === "string") return f[0] + ": " + d.kind;
    } catch (e) { /* the detail may be cut short */ }
    return f[0];
  }

  function draw() {
    var dpr = window.devicePixelRatio || 1;
    var w = width(), h = AXIS + rows * rowH + 4;
    canvas.style.height = h + "px";
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px system-ui, sans-serif";
    // Faults: a labelled bar in the fault's lane, and a shaded band under
    // the operations (overlapping faults shade darker).
    (td.faults || []).forEach(function (f) {
      var a = x(f[1]), b = Math.max(x(f[2]), a + 1);
      if (b < GUTTER || a > w - RIGHT) return;
      a = Math.max(a, GUTTER); b = Math.min(b, w - RIGHT);
      var top = 20 + (f[5] || 0) * LANE_H, color = td.colors[f[0]] || "#999999";
      ctx.fillStyle = hexAlpha(color, 0.45);
      ctx.fillRect(a, top, b - a, LANE_H - 1);
      ctx.fillStyle = hexAlpha(color, 0.22 / LANES);
      ctx.fillRect(a, AXIS, b - a, h - AXIS);
      if (b - a > 30) { ctx.fillStyle = "#37474f"; ctx.fillText(faultLabel(f), a + 3, top + LANE_H - 3, b - a - 4); }
    });
    // Time axis.
    var step = niceStep((view.t1 - view.t0) / 8);
    ctx.strokeStyle = "#cfd8dc"; ctx.fillStyle = "#455a64";
    for (var t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
      var px = Math.round(x(t)) + 0.5;
      ctx.beginPath(); ctx.moveTo(px, 15); ctx.lineTo(px, h); ctx.stroke();
      ctx.fillText(fmt(t), px + 2, 12);
    }
    // Process labels.
    if (rowH >= 9) {
      ctx.fillStyle = "#455a64";
      for (var r = 0; r < rows; r++) ctx.fillText("p" + td.procs[r], 4, AXIS + r * rowH + rowH - 3);
    }
    // Operations.
    var drawn = 0, gap = rowH > 5 ? 1 : 0;
    ctx.save();
    ctx.beginPath(); ctx.rect(GUTTER, AXIS, w - GUTTER - RIGHT, h - AXIS); ctx.clip();
    for (var i = 0; i < ops.length; i++) {
      var o = ops[i];
      if (o[5] < view.t0 || o[4] > view.t1) continue;
      var a = x(o[4]), b = Math.max(x(o[5]), a + 1.5);
      var y = AXIS + o[1] * rowH + gap;
      ctx.fillStyle = OUT_COLOR[o[6]];
      ctx.fillRect(a, y, b - a, rowH - 2 * gap);
      if (o[9]) { ctx.lineWidth = 2; ctx.strokeStyle = "#000"; ctx.strokeRect(a - 1, y - 1, b - a + 2, rowH - 2 * gap + 2); }
      drawn++;
    }
    if (selected) {
      var sa = x(selected[4]), sb = Math.max(x(selected[5]), sa + 1.5), sy = AXIS + selected[1] * rowH;
      ctx.lineWidth = 3; ctx.strokeStyle = "#fbc02d";
      ctx.strokeRect(sa - 2, sy - 2, sb - sa + 4, rowH + 4);
    }
    ctx.restore();
    canvas.setAttribute("data-drawn", "1");
    canvas.setAttribute("data-ops", String(drawn));
    windowLabel.textContent = "showing " + fmt(view.t0) + " – " + fmt(view.t1) + " · " + drawn + " operations in view" +
      (td.shown < td.total ? " (sampled: " + td.shown + " of " + td.total + " in the page)" : "");
    scheduleTable();
  }

  var tableTimer = null;
  function scheduleTable() {
    if (tableTimer) clearTimeout(tableTimer);
    tableTimer = setTimeout(fillTable, 120);
  }
  function fillTable() {
    var body = document.querySelector("#tl-table tbody");
    if (!body) return;
    var html = [], n = 0;
    for (var i = 0; i < ops.length && n < 300; i++) {
      var o = ops[i];
      if (o[5] < view.t0 || o[4] > view.t1) continue;
      n++;
      html.push("<tr class=\"outcome-" + OUT[o[6]] + "\"><td>" + o[0] + "</td><td>" + td.procs[o[1]] + "</td><td>" + esc(td.fs[o[2]]) +
        "</td><td>" + esc(td.keys[o[3]]) + "</td><td>" + esc(o[7]) + "</td><td>" + fmt(o[4]) + "</td><td>" + fmt(o[5]) +
        "</td><td>" + OUT[o[6]] + "</td><td>" + esc(o[8]) + "</td></tr>");
    }
    body.innerHTML = html.join("");
  }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c]; });
  }

  function opAt(px, py) {
    var r = Math.floor((py - AXIS) / rowH);
    if (r < 0 || r >= rows) return null;
    var t = tAt(px), slack = (view.t1 - view.t0) / (width() - GUTTER) * 3;
    var list = byRow[r], best = null;
    for (var i = 0; i < list.length; i++) {
      var o = list[i];
      if (o[4] - slack <= t && t <= o[5] + slack) { best = o; if (o[4] <= t && t <= o[5]) break; }
      if (o[4] - slack > t) break;
    }
    return best;
  }
  function describe(o) {
    return "op " + o[0] + ": " + td.fs[o[2]] + " of " + td.keys[o[3]] + " by process " + td.procs[o[1]] +
      "\ninvoked " + fmt(o[4]) + ", completed " + fmt(o[5]) + " (" + Math.round((o[5] - o[4]) * 1000) / 1000 + " ms)" +
      "\n" + OUT[o[6]] + (o[7] !== "" ? " → " + o[7] : "") + (o[8] ? " on " + o[8] : "") + (o[9] ? "\nnamed by an anomaly" : "");
  }
  function select(o) {
    selected = o;
    document.querySelectorAll("tr.selected").forEach(function (tr) { tr.classList.remove("selected"); });
    if (!o) { detail.textContent = "Click an operation to see its details."; draw(); return; }
    detail.textContent = describe(o).replace(/\n/g, " · ");
    var row = document.getElementById("op-" + o[0]);
    if (row) {
      row.classList.add("selected");
      for (var d = row.parentElement; d; d = d.parentElement) if (d.tagName === "DETAILS") d.open = true;
      var a = document.createElement("a");
      a.href = "#op-" + o[0]; a.textContent = " (row in the table of operations named by anomalies)";
      detail.appendChild(a);
    }
    draw();
  }
  function focusOp(id) {
    var o = byId[id];
    if (!o) return false;
    var len = Math.max(o[5] - o[4], 1), pad = Math.max(len * 4, 200);
    view.t0 = Math.max(0, o[4] - pad); view.t1 = Math.min(end, o[5] + pad);
    if (view.t1 <= view.t0) view.t1 = view.t0 + 1;
    select(o);
    return true;
  }
  function zoom(factor, center) {
    var c = center == null ? (view.t0 + view.t1) / 2 : center;
    var len = Math.max((view.t1 - view.t0) * factor, 0.01);
    len = Math.min(len, end);
    var t0 = c - (c - view.t0) * factor;
    t0 = Math.max(0, Math.min(t0, end - len));
    view.t0 = t0; view.t1 = t0 + len;
    draw();
  }

  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    var rect = canvas.getBoundingClientRect();
    zoom(e.deltaY > 0 ? 1.25 : 0.8, tAt(e.clientX - rect.left));
  }, { passive: false });
  var drag = null;
  canvas.addEventListener("mousedown", function (e) { drag = { x: e.clientX, t0: view.t0, t1: view.t1, moved: false }; canvas.style.cursor = "grabbing"; });
  window.addEventListener("mouseup", function (e) {
    canvas.style.cursor = "grab";
    if (drag && !drag.moved && e.target === canvas) {
      var rect = canvas.getBoundingClientRect();
      select(opAt(e.clientX - rect.left, e.clientY - rect.top));
    }
    drag = null;
  });
  canvas.addEventListener("mousemove", function (e) {
    var rect = canvas.getBoundingClientRect();
    if (drag) {
      var dx = e.clientX - drag.x;
      if (Math.abs(dx) > 2) drag.moved = true;
      var dt = dx / (width() - GUTTER - RIGHT) * (drag.t1 - drag.t0);
      var len = drag.t1 - drag.t0;
      view.t0 = Math.max(0, Math.min(drag.t0 - dt, end - len)); view.t1 = view.t0 + len;
      draw();
      return;
    }
    var o = opAt(e.clientX - rect.left, e.clientY - rect.top);
    if (!o) { tip.hidden = true; return; }
    tip.hidden = false;
    tip.textContent = describe(o);
    tip.style.left = Math.min(e.clientX - rect.left + 12, width() - 260) + "px";
    tip.style.top = (e.clientY - rect.top + 12) + "px";
  });
  canvas.addEventListener("mouseleave", function () { tip.hidden = true; });
  document.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      var z = b.getAttribute("data-zoom");
      if (z === "in") zoom(0.5); else if (z === "out") zoom(2); else { view.t0 = home; view.t1 = end; draw(); }
    });
  });
  document.querySelectorAll("a.opref").forEach(function (a) {
    a.addEventListener("click", function (e) {
      if (focusOp(Number(a.getAttribute("data-op")))) {
        e.preventDefault();
        if (history.replaceState) history.replaceState(null, "", "#op-" + a.getAttribute("data-op"));
        document.getElementById("timeline").scrollIntoView({ behavior: "smooth" });
      }
    });
  });
  function fromHash() {
    var m = /^#op-(\d+)$/.exec(location.hash);
    if (m && focusOp(Number(m[1]))) {
      var row = document.getElementById("op-" + m[1]);
      if (row) row.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", fromHash);
  window.addEventListener("resize", draw);
  draw();
  fromHash();
})();
