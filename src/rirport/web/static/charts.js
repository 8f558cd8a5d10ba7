// Charts drawn from the data table each one stands beside (the table is the data; without
// JavaScript the reader gets the table). Uses Observable Plot over d3 and, for the world map,
// topojson-client and world-atlas — all vendored from the npm registry and served by rirport.
"use strict";
(function () {
  var PALETTE = ["#0b4fa8", "#b35c00", "#1e6b34", "#8a1c7c", "#a01c1c", "#4a4a4a"];
  // names coloured alike on every chart (a registry, a status, an outcome)
  var NAMED = {
    allowed: "#1e6b34", conditional: "#b35c00", refused: "#a01c1c",
    allocated: PALETTE[0], assigned: PALETTE[1], available: PALETTE[2], reserved: PALETTE[3],
    afrinic: PALETTE[2], apnic: PALETTE[1], arin: PALETTE[0], lacnic: PALETTE[3], ripencc: PALETTE[4]
  };

  function isDate(text) { return /^\d{4}-\d{2}-\d{2}$/.test(text); }
  function isMonth(text) { return /^\d{4}-\d{2}$/.test(text); }

  // The table's rows as objects keyed by column name: numbers from data-v, dates as Dates.
  function rowsOf(table) {
    var columns = Array.prototype.map.call(table.tHead.rows[0].cells, function (c) { return c.textContent.trim(); });
    var out = [];
    Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
      if (tr.cells.length !== columns.length) { return; }
      var row = {};
      Array.prototype.forEach.call(tr.cells, function (td, i) {
        var v = td.dataset.v;
        if (v !== undefined) { row[columns[i]] = v === "" ? null : Number(v); }
        else {
          var text = td.textContent.trim();
          // dates (and months, their first day) as Dates: Plot parses no strings
          row[columns[i]] = isDate(text) ? new Date(text + "T00:00:00Z")
            : isMonth(text) ? new Date(text + "-01T00:00:00Z") : text;
        }
      });
      out.push(row);
    });
    return out;
  }

  // Plot adds a <style> element to each chart; the CSP allows no inline style, so it is taken
  // out before the chart joins the document (site.css holds the same rules for .rp-plot).
  function clean(node) {
    node.querySelectorAll("style").forEach(function (s) { s.remove(); });
    return node;
  }

  function colors(rows, key) {
    var names = Array.from(new Set(rows.map(function (r) { return r[key]; })));
    var range = names.map(function (n, i) { return NAMED[n] || PALETTE[i % PALETTE.length]; });
    return { domain: names, range: range, legend: true };
  }

  // A time axis whose ticks are never finer than a day (a few files' dates would get hours).
  function dateAxis(rows, key, width) {
    if (!(rows[0][key] instanceof Date)) { return { label: key }; }
    var extent = d3.extent(rows, function (r) { return r[key]; });
    var days = d3.utcDay.count(extent[0], extent[1]);
    return { type: "utc", label: null, ticks: Math.max(1, Math.min(days, Math.floor(width / 90))) };
  }

  // Months (their first days) as bands, every month of the span shown (a month with nothing
  // is a gap), labelled by month, or by year past two years of them.
  function monthAxis(rows, key) {
    var extent = d3.extent(rows, function (r) { return r[key]; });
    var span = d3.utcMonth.count(extent[0], extent[1]) + 1;
    var axis = { type: "band", interval: "month", label: key, tickFormat: d3.utcFormat(span > 24 ? "%Y" : "%Y-%m") };
    if (span > 24) { axis.ticks = d3.utcYear.range(d3.utcYear.ceil(extent[0]), d3.utcMonth.offset(extent[1], 1)); }
    return axis;
  }

  var KINDS = {
    line: function (rows, spec, width) {
      var marks = [Plot.ruleY([0]), Plot.lineY(rows, { x: spec.x, y: spec.y, stroke: spec.series, z: spec.series || null, marker: "circle" })];
      return { width: width, height: 260, marginLeft: 60, color: spec.series ? colors(rows, spec.series) : undefined, x: dateAxis(rows, spec.x, width),
        y: { grid: true, label: spec.y, tickFormat: "s" }, marks: marks };
    },
    bar: function (rows, spec, width) {
      // stacked by series (the parts of one whole: statuses of a type, kinds in a month)
      var marks = [Plot.ruleY([0]), Plot.barY(rows, { x: spec.x, y: spec.y, fill: spec.series || "#0b4fa8" })];
      var x = rows[0][spec.x] instanceof Date ? monthAxis(rows, spec.x) : { label: spec.x };
      var many = x.ticks === undefined && new Set(rows.map(function (r) { return String(r[spec.x]); })).size > 8;
      x.tickRotate = many ? -40 : 0;
      return { width: width, height: 260, marginLeft: 60, marginBottom: many ? 60 : 40, color: spec.series ? colors(rows, spec.series) : undefined,
        x: x, y: { grid: true, label: spec.y, tickFormat: "s" }, marks: marks };
    },
    group: function (rows, spec, width) {
      // side by side by series (one measure under several regimes)
      return { width: width, height: 260, marginLeft: 60, color: colors(rows, spec.series), fx: { label: spec.x }, x: { axis: null },
        y: { grid: true, label: spec.y, tickFormat: "s" },
        marks: [Plot.ruleY([0]), Plot.barY(rows, { fx: spec.x, x: spec.series, y: spec.y, fill: spec.series })] };
    },
    hbar: function (rows, spec, width) {
      return { width: width, height: 40 + 24 * rows.length, marginLeft: 60, color: spec.series ? colors(rows, spec.series) : undefined, x: { grid: true, label: spec.y, tickFormat: "s" }, y: { label: null },
        marks: [Plot.ruleX([0]), Plot.barX(rows, { y: spec.x, x: spec.y, fill: spec.series || "#0b4fa8", sort: { y: "-x" } })] };
    },
    timeline: function (rows, spec, width) {
      // one bar per period: from first_seen to last_seen, on the lane of `x`, coloured by series
      return { width: width, height: 60 + 34 * new Set(rows.map(function (r) { return r[spec.x]; })).size, marginLeft: 110,
        color: spec.series ? colors(rows, spec.series) : undefined, x: { type: "utc", label: "snapshot date" }, y: { label: null },
        marks: [Plot.lineX(rows, { y: spec.x, x: "first seen", stroke: "#9aa3ad", sort: "first seen" }),
                Plot.barX(rows, { y: spec.x, x1: "first seen", x2: "last seen", fill: spec.series, inset: 2 }),
                Plot.dot(rows, { y: spec.x, x: "first seen", fill: spec.series, r: 5 }),
                Plot.dot(rows, { y: spec.x, x: "last seen", fill: spec.series, r: 5 })] };
    },
    map: function (rows, spec, width, figure) {
      var world = figure._world;
      var countries = topojson.feature(world, world.objects.countries);
      var value = new Map(rows.map(function (r) { return [String(r[spec.x]).padStart(3, "0"), r[spec.y]]; }));
      return { width: width, height: Math.round(width * 0.52), projection: "equal-earth",
        color: { type: "linear", scheme: "oranges", domain: [0, 1], legend: true, label: spec.y, unknown: "#e6e8ec" },
        marks: [Plot.geo(countries, { fill: function (d) { return value.get(String(d.id)); }, stroke: "#ffffff", strokeWidth: 0.5 }),
                Plot.sphere({ stroke: "#9aa3ad" })] };
    }
  };

  function draw(figure) {
    var table = document.getElementById(figure.dataset.for);
    var area = figure.querySelector(".chart-area");
    if (!table || !area) { return; }
    var spec = { x: figure.dataset.x, y: figure.dataset.y, series: figure.dataset.series };
    var rows = rowsOf(table);
    var melt = figure.dataset.melt;
    if (melt) {
      // a wide table (one column per series) drawn as long rows: {x, series: column, y: value}
      var wide = rows;
      rows = [];
      wide.forEach(function (r) {
        melt.split(",").forEach(function (c) {
          if (r[c] === null || r[c] === undefined) { return; }
          var long = Object.assign({}, r);
          long[spec.series] = c;
          long[spec.y] = r[c];
          rows.push(long);
        });
      });
    }
    var where = figure.dataset.where;
    if (where) {
      var column = where.slice(0, where.indexOf("=")), wanted = where.slice(where.indexOf("=") + 1);
      rows = rows.filter(function (r) { return String(r[column]) === wanted; });
    }
    if (!rows.length) { area.textContent = ""; figure.hidden = true; return; }  // its table says so
    figure.hidden = false;
    var width = Math.max(280, Math.min(area.clientWidth || 640, 1100));
    var options = KINDS[figure.dataset.chart](rows, spec, width, figure);
    options.className = "rp-plot";
    options.style = { fontSize: "12px" };
    area.replaceChildren(clean(Plot.plot(options)));
    figure.dataset.drawn = String(rows.length);
  }

  function prepare(figure) {
    if (figure.dataset.chart !== "map") { return Promise.resolve(); }
    return fetch(figure.dataset.geo).then(function (r) { return r.json(); }).then(function (w) { figure._world = w; });
  }

  function drawAll(root) {
    var figures = Array.prototype.slice.call(root.querySelectorAll("figure.chart[data-chart]"));
    figures.forEach(function (f) { prepare(f).then(function () { draw(f); }); });
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { figures.forEach(function (f) { if (f.dataset.drawn) { draw(f); } }); }, 100);
    });
  }

  window.rirportCharts = { drawAll: drawAll, rowsOf: rowsOf };
})();
