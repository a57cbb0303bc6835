"use strict";
// The operator's dashboard: GET /v1/operator/metrics/{summary,timeseries,sellers,categories,models} and
// GET /v1/operator/unmet-demand, drawn for one period.
(function () {
  var D = window.Dash;
  var C = D.COLORS;
  var STAGES = [
    ["sessions", "Sessions"],
    ["searched", "Searched"],
    ["clicked", "Clicked"],
    ["added_to_cart", "Added to cart"],
    ["checkout_started", "Checkout started"],
    ["paid", "Paid"],
  ];
  var SECTIONS = ["headline", "money-over-time", "take-rate", "funnel", "search-quality", "sellers", "categories",
    "models", "unmet-demand"];
  var CHARTS = ["chart-money", "chart-take-rate", "chart-funnel", "chart-search"];
  // Back to an empty page (signed out, or before new figures): nothing of the last figures stays visible.
  var reset = D.resetter(SECTIONS, CHARTS);

  function moneyRow(rows, currency) {
    for (var i = 0; i < rows.length; i++) if (rows[i].currency === currency) return rows[i];
    return null;
  }

  function drawHeadline(summary) {
    var body = D.clear(D.sectionBody("headline"));
    if (!summary.figures.money.length) {
      body.appendChild(D.empty("No sales in this period."));
      return;
    }
    summary.figures.money.forEach(function (row) {
      var group = body.appendChild(D.el("section", "currency"));
      group.dataset.currency = row.currency;
      group.setAttribute("aria-label", "Money in " + row.currency);
      group.appendChild(D.el("h3", "", row.currency));
      group.appendChild(D.cards([
        ["gmv", "GMV", D.money(row.gmv, row.currency)],
        ["revenue", "Revenue (fees)", D.money(row.revenue, row.currency)],
        ["take_rate", "Take rate", D.percent(row.take_rate)],
        ["orders", "Orders", D.count(row.orders)],
        ["average_order_value", "Average order", D.money(row.average_order_value, row.currency)],
        ["refunded", "Refunded", D.money(row.refunded, row.currency)],
        ["refund_rate", "Refund rate", D.percent(row.refund_rate)],
      ]));
    });
  }

  function drawFunnel(funnel) {
    var values = STAGES.map(function (stage) { return funnel[stage[0]]; });
    var table = D.table(
      [
        { title: "Stage", value: function (i) { return STAGES[i][1]; } },
        { title: "Sessions", numeric: true, value: function (i) { return D.count(values[i]); } },
        { title: "Of the first", numeric: true, value: function (i) { return D.percent(values[0] ? values[i] / values[0] : null); } },
      ],
      STAGES.map(function (_, i) { return i; }),
      "Funnel counts"
    );
    table.id = "funnel-table";
    D.sectionBody("funnel").appendChild(table);
    if (!values[0]) {
      D.purge("chart-funnel");
      document.getElementById("chart-funnel").appendChild(D.empty("No sessions in this period."));
      return;
    }
    D.plot("chart-funnel", [{
      type: "funnel",
      y: STAGES.map(function (stage) { return stage[1]; }),
      x: values,
      textinfo: "value+percent initial",
      marker: { color: C.funnel },
      hovertemplate: "%{y}: %{x} sessions<extra></extra>",
    }], { margin: { l: 120, r: 16, t: 8, b: 24 }, hovermode: "closest", showlegend: false });
  }

  function drawSearchCards(search) {
    var body = D.sectionBody("search-quality");
    var cards = D.cards([
      ["searches", "Searches", D.count(search.searches)],
      ["zero_result_rate", "Zero-result rate", D.percent(search.zero_result_rate)],
      ["click_through_rate", "Click-through rate", D.percent(search.click_through_rate)],
      ["mean_reciprocal_rank", "Mean reciprocal rank", D.decimal(search.mean_reciprocal_rank)],
    ]);
    cards.id = "search-cards";
    body.replaceChild(cards, document.getElementById("search-cards"));
  }

  function drawSummary(summary) {
    drawHeadline(summary);
    drawFunnel(summary.figures.funnel);
    drawSearchCards(summary.figures.search);
  }

  // Every currency the series holds, largest GMV first.
  function seriesCurrencies(series) {
    var totals = {};
    series.buckets.forEach(function (bucket) {
      bucket.figures.money.forEach(function (row) { totals[row.currency] = (totals[row.currency] || 0) + row.gmv; });
    });
    return Object.keys(totals).sort(function (a, b) { return totals[b] - totals[a] || (a < b ? -1 : 1); });
  }

  function drawMoneySeries(series, currency) {
    var x = series.buckets.map(function (bucket) { return D.dayLabel(bucket.start); });
    var rows = series.buckets.map(function (bucket) { return moneyRow(bucket.figures.money, currency); });
    function trace(name, key, color) {
      return {
        type: "bar",
        name: name,
        x: x,
        y: rows.map(function (row) { return row ? D.major(row[key], currency) : 0; }),
        customdata: rows.map(function (row) { return D.money(row ? row[key] : 0, currency); }),
        hovertemplate: "%{customdata}",
        marker: { color: color },
      };
    }
    D.plot("chart-money", [trace("GMV", "gmv", C.primary), trace("Revenue", "revenue", C.secondary)], {
      barmode: "group",
      xaxis: { type: "date", tickformat: "%b %d" },
      yaxis: { title: { text: currency }, rangemode: "tozero" },
    });
    var rates = function (key) {
      return rows.map(function (row) { return row && row[key] !== null ? row[key] : null; });
    };
    D.plot("chart-take-rate", [
      { type: "scatter", mode: "lines+markers", name: "Take rate", x: x, y: rates("take_rate"),
        line: { color: C.primary, width: 3 }, hovertemplate: "%{y:.1%}" },
      { type: "scatter", mode: "lines+markers", name: "Refund rate", x: x, y: rates("refund_rate"),
        line: { color: C.accent, dash: "dot" }, hovertemplate: "%{y:.1%}" },
    ], {
      xaxis: { type: "date", tickformat: "%b %d" },
      yaxis: { tickformat: ".0%", rangemode: "tozero" },
    });
  }

  function drawSearchSeries(series) {
    var x = series.buckets.map(function (bucket) { return D.dayLabel(bucket.start); });
    function line(name, key, color, format) {
      return {
        type: "scatter",
        mode: "lines+markers",
        name: name,
        x: x,
        y: series.buckets.map(function (bucket) { return bucket.figures.search[key]; }),
        line: { color: color },
        hovertemplate: "%{y:" + format + "}",
      };
    }
    D.plot("chart-search", [
      line("Click-through rate", "click_through_rate", C.primary, ".1%"),
      line("Zero-result rate", "zero_result_rate", C.accent, ".1%"),
      line("Mean reciprocal rank", "mean_reciprocal_rank", C.secondary, ".3f"),
    ], {
      xaxis: { type: "date", tickformat: "%b %d" },
      yaxis: { range: [0, 1.02], tickformat: ".1f" },
    });
  }

  function drawSeries(series, summary) {
    var select = document.getElementById("currency");
    var list = summary ? D.currencies(summary.figures.money, "gmv") : [];
    seriesCurrencies(series).forEach(function (currency) { if (list.indexOf(currency) < 0) list.push(currency); });
    drawSearchSeries(series);
    if (!list.length) {
      D.purge("chart-money");
      D.purge("chart-take-rate");
      document.getElementById("chart-money").appendChild(D.empty("No sales in this period."));
      document.getElementById("chart-take-rate").appendChild(D.empty("No sales in this period."));
      return;
    }
    D.fillCurrencySelect(select, list, function () { drawMoneySeries(series, select.value); });
    drawMoneySeries(series, select.value || list[0]);
  }

  // One row per seller (or category) and currency, largest GMV first as the API sorts them.
  function breakdownTable(rows, nameTitle, name, label) {
    var flat = [];
    rows.forEach(function (row) {
      row.money.forEach(function (money) { flat.push({ name: name(row), money: money }); });
    });
    if (!flat.length) return D.empty("No sales in this period.");
    return D.table([
      { title: nameTitle, value: function (r) { return r.name; } },
      { title: "Currency", code: true, value: function (r) { return r.money.currency; } },
      { title: "GMV", numeric: true, value: function (r) { return D.money(r.money.gmv, r.money.currency); } },
      { title: "Revenue", numeric: true, value: function (r) { return D.money(r.money.revenue, r.money.currency); } },
      { title: "Orders", numeric: true, value: function (r) { return D.count(r.money.orders); } },
      { title: "Take rate", numeric: true, value: function (r) { return D.percent(r.money.take_rate); } },
      { title: "Refund rate", numeric: true, value: function (r) { return D.percent(r.money.refund_rate); } },
    ], flat.slice(0, 50), label);
  }

  function beforeAfter(key, format) {
    return function (row) { return format(row.before[key]) + " → " + format(row.after[key]); };
  }

  function drawModels(report) {
    var body = D.clear(D.sectionBody("models"));
    if (!report.models.length) {
      body.appendChild(D.empty("No model has been promoted yet."));
      return;
    }
    body.appendChild(D.table([
      { title: "Version", value: function (m) { return m.version; } },
      { title: "Kind", value: function (m) { return m.kind; } },
      { title: "Promoted", code: true, value: function (m) { return D.dateTimeLabel(m.promoted_at); } },
      { title: "Replaced", value: function (m) { return m.replaced || "—"; } },
      { title: "Searches", numeric: true, value: beforeAfter("searches", D.count) },
      { title: "Click-through", numeric: true, value: beforeAfter("click_through_rate", D.percent) },
      { title: "MRR", numeric: true, value: beforeAfter("mean_reciprocal_rank", D.decimal) },
      { title: "Conversion", numeric: true, value: beforeAfter("conversion_rate", D.percent) },
    ], report.models, "Models before and after promotion"));
  }

  function load(request, showPeriod) {
    var period = { since: request.since, until: request.until };
    var token = request.token;
    reset();
    return D.settle([
      D.api("/v1/operator/metrics/summary", period, token),
      D.api("/v1/operator/metrics/timeseries",
        { since: request.since, until: request.until, bucket: request.bucket || "day" }, token),
      D.api("/v1/operator/metrics/sellers", period, token),
      D.api("/v1/operator/metrics/categories", period, token),
      D.api("/v1/operator/metrics/models", period, token),
      D.api("/v1/operator/unmet-demand", { since: request.since, until: request.until, limit: 20 }, token),
    ]).then(function (results) {
      var summary = results[0].status === "fulfilled" ? results[0].value : null;
      var drawn = [
        D.render(results[0], "headline", function (value) { showPeriod(value.period); drawSummary(value); }),
        D.render(results[1], "money-over-time", function (value) {
          if (!summary) showPeriod(value.period);
          drawSeries(value, summary);
        }),
        D.render(results[2], "sellers", function (value) {
          D.sectionBody("sellers").appendChild(breakdownTable(value.sellers || [], "Seller",
            function (row) { return row.seller_name; }, "Top sellers"));
        }),
        D.render(results[3], "categories", function (value) {
          D.sectionBody("categories").appendChild(breakdownTable(value.categories || [], "Category",
            function (row) { return row.category; }, "Top categories"));
        }),
        D.render(results[4], "models", drawModels),
        D.render(results[5], "unmet-demand", function (value) {
          D.sectionBody("unmet-demand").appendChild(D.clusterList(value));
        }),
      ];
      if (!summary) ["funnel", "search-quality"].forEach(function (id) { D.showError(id, results[0].reason); });
      if (results[1].status === "rejected") D.showError("take-rate", results[1].reason);
      if (drawn.indexOf(false) >= 0) throw new Error("some figures could not be loaded");
    });
  }

  D.start({
    storageKey: "agora.operator-token",
    refused: "The operator token was refused:",
    load: load,
    reset: reset,
  });
})();
