"use strict";
// A seller's dashboard: GET /v1/sellers/me, GET /v1/seller/insights and GET /v1/seller/insights/unmet-demand,
// with the seller's own key: the API answers with this seller's data only.
(function () {
  var D = window.Dash;
  var C = D.COLORS;
  var STAGES = [
    ["impressions", "Shown"],
    ["clicks", "Clicked"],
    ["added_to_cart", "Added to cart"],
    ["checkout_started", "Checkout started"],
    ["purchases", "Bought"],
  ];
  var SECTIONS = ["headline", "revenue", "funnel", "queries", "unmet-demand"];
  var CHARTS = ["chart-revenue", "chart-funnel"];
  var resetSections = D.resetter(SECTIONS, CHARTS);

  function reset() {
    resetSections();
    document.getElementById("seller-name").textContent = "";
  }

  function drawHeadline(insights) {
    var body = D.clear(D.sectionBody("headline"));
    var funnel = insights.funnel;
    var overall = body.appendChild(D.cards([
      ["impressions", "Times shown", D.count(funnel.impressions)],
      ["clicks", "Clicks", D.count(funnel.clicks)],
      ["purchases", "Purchases", D.count(funnel.purchases)],
      ["conversion_rate", "Conversion (bought / shown)", D.percent(funnel.conversion_rate)],
    ]));
    overall.id = "funnel-cards";
    if (!insights.money.length) {
      body.appendChild(D.empty("No sales in this period."));
      return;
    }
    insights.money.forEach(function (row) {
      var group = body.appendChild(D.el("section", "currency"));
      group.dataset.currency = row.currency;
      group.setAttribute("aria-label", "Sales in " + row.currency);
      group.appendChild(D.el("h3", "", row.currency));
      group.appendChild(D.cards([
        ["gross", "Sales", D.money(row.gross, row.currency)],
        ["fees", "Platform fees", D.money(row.fees, row.currency)],
        ["refunded", "Refunded", D.money(row.refunded, row.currency)],
        ["net", "Revenue after fees", D.money(row.net, row.currency)],
        ["orders", "Orders", D.count(row.orders)],
      ]));
    });
  }

  function drawFunnel(funnel) {
    var values = STAGES.map(function (stage) { return funnel[stage[0]]; });
    if (!values[0]) {
      D.purge("chart-funnel");
      document.getElementById("chart-funnel").appendChild(D.empty("Your products were not shown in this period."));
      return;
    }
    D.plot("chart-funnel", [{
      type: "funnel",
      y: STAGES.map(function (stage) { return stage[1]; }),
      x: values,
      textinfo: "value+percent initial",
      marker: { color: C.funnel.slice(1) },
      hovertemplate: "%{y}: %{x}<extra></extra>",
    }], { margin: { l: 120, r: 16, t: 8, b: 24 }, hovermode: "closest", showlegend: false });
  }

  function drawRevenue(insights, currency) {
    var x = insights.daily.map(function (day) { return D.dayLabel(day.start); });
    var rows = insights.daily.map(function (day) {
      for (var i = 0; i < day.money.length; i++) if (day.money[i].currency === currency) return day.money[i];
      return null;
    });
    function series(name, key, color) {
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
    D.plot("chart-revenue", [
      series("Sales", "gross", C.primary),
      series("Revenue after fees", "net", C.secondary),
    ], {
      barmode: "group",
      xaxis: { type: "date", tickformat: "%b %d" },
      yaxis: { title: { text: currency }, rangemode: "tozero" },
    });
  }

  function drawRevenueSection(insights) {
    var list = D.currencies(insights.money, "gross");
    if (!list.length) {
      D.purge("chart-revenue");
      document.getElementById("chart-revenue").appendChild(D.empty("No sales in this period."));
      return;
    }
    var select = document.getElementById("currency");
    D.fillCurrencySelect(select, list, function () { drawRevenue(insights, select.value); });
    drawRevenue(insights, select.value || list[0]);
  }

  function drawQueries(insights) {
    var body = D.clear(D.sectionBody("queries"));
    if (!insights.top_queries.length) {
      body.appendChild(D.empty("No search showed your products in this period."));
      return;
    }
    var table = D.table([
      { title: "Query", value: function (q) { return q.query; } },
      { title: "Searches", numeric: true, value: function (q) { return D.count(q.searches); } },
      { title: "Clicks", numeric: true, value: function (q) { return D.count(q.clicks); } },
      { title: "Purchases", numeric: true, value: function (q) { return D.count(q.purchases); } },
      // Not a click-through rate: a shopper may click several of the seller's products in one search.
      { title: "Clicks per search", numeric: true, value: function (q) { return q.searches ? (q.clicks / q.searches).toFixed(1) : "–"; } },
    ], insights.top_queries, "Top queries");
    table.id = "queries-table";
    body.appendChild(table);
  }

  function load(request, showPeriod) {
    var period = { since: request.since, until: request.until };
    var token = request.token;
    reset();
    return D.settle([
      D.api("/v1/sellers/me", {}, token),
      D.api("/v1/seller/insights", period, token),
      D.api("/v1/seller/insights/unmet-demand", period, token),
    ]).then(function (results) {
      if (results[0].status === "fulfilled") {
        document.getElementById("seller-name").textContent = "Signed in as " + results[0].value.name;
      }
      var drawn = [
        D.render(results[1], "headline", function (insights) {
          showPeriod(insights.period);
          drawHeadline(insights);
          drawFunnel(insights.funnel);
          drawRevenueSection(insights);
          drawQueries(insights);
        }),
        D.render(results[2], "unmet-demand", function (value) {
          D.sectionBody("unmet-demand").appendChild(D.clusterList(value));
        }),
      ];
      if (results[1].status === "rejected") {
        ["revenue", "funnel", "queries"].forEach(function (id) { D.showError(id, results[1].reason); });
      }
      if (drawn.indexOf(false) >= 0) throw new Error("some figures could not be loaded");
    });
  }

  D.start({
    storageKey: "agora.seller-key",
    refused: "The API key was refused:",
    load: load,
    reset: reset,
  });
})();
