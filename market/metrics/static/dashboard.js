"use strict";
// What both dashboards share: the credential kept in this tab, calls to the JSON API, the period picker,
// number formatting and drawing. Every string from the server is set with textContent (or given to plotly
// as data): sellers' names and shoppers' queries are data, never markup.
window.Dash = (function () {
  var DAY_MS = 86400000;
  var COLORS = {
    primary: "#3b5bdb",
    secondary: "#2b8a3e",
    accent: "#e8590c",
    muted: "#868e96",
    funnel: ["#3b5bdb", "#4c6ef5", "#5c7cfa", "#748ffc", "#91a7ff", "#2b8a3e"],
  };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  // ---- numbers -------------------------------------------------------------------------------------------

  var moneyFormats = {};
  function moneyFormat(currency) {
    if (!moneyFormats[currency]) {
      try {
        moneyFormats[currency] = new Intl.NumberFormat(undefined, { style: "currency", currency: currency });
      } catch (e) {
        moneyFormats[currency] = null; // not a currency this browser knows: shown as "123.45 XYZ"
      }
    }
    return moneyFormats[currency];
  }

  // The currency's minor units (JPY 0, USD 2, KWD 3), as Intl knows them.
  function minorDigits(currency) {
    var format = moneyFormat(currency);
    return format ? format.resolvedOptions().maximumFractionDigits : 2;
  }

  // Integer minor units -> a number in major units (for charts' axes).
  function major(amount, currency) {
    return amount / Math.pow(10, minorDigits(currency));
  }

  function money(amount, currency) {
    if (amount === null || amount === undefined) return "—";
    var format = moneyFormat(currency);
    if (!format) return (amount / 100).toFixed(2) + " " + currency;
    return format.format(major(amount, currency));
  }

  var counts = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  function count(n) {
    return n === null || n === undefined ? "—" : counts.format(n);
  }

  var percents = new Intl.NumberFormat(undefined, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });
  function percent(rate) {
    return rate === null || rate === undefined ? "—" : percents.format(rate);
  }

  var decimals = new Intl.NumberFormat(undefined, { minimumFractionDigits: 3, maximumFractionDigits: 3 });
  function decimal(x) {
    return x === null || x === undefined ? "—" : decimals.format(x);
  }

  // ---- dates (all UTC: the API's periods are UTC) -----------------------------------------------------------

  function isoDate(date) {
    return date.toISOString().slice(0, 10);
  }

  function dayLabel(iso) {
    return isoDate(new Date(iso));
  }

  function dateTimeLabel(iso) {
    return new Date(iso).toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }

  // The period's last day, inclusive: until is exclusive, so a period ending at midnight ends the day before.
  function lastDay(untilIso) {
    return isoDate(new Date(new Date(untilIso).getTime() - 1));
  }

  function nextDay(dateString) {
    return isoDate(new Date(Date.parse(dateString + "T00:00:00Z") + DAY_MS));
  }

  // ---- the credential ------------------------------------------------------------------------------------

  function Credential(key) {
    this.key = key;
  }
  Credential.prototype.get = function () {
    try { return sessionStorage.getItem(this.key); } catch (e) { return this.memory || null; }
  };
  Credential.prototype.set = function (value) {
    this.memory = value;
    try { sessionStorage.setItem(this.key, value); } catch (e) { /* storage off: kept for this page only */ }
  };
  Credential.prototype.clear = function () {
    this.memory = null;
    try { sessionStorage.removeItem(this.key); } catch (e) { /* nothing kept */ }
  };

  // ---- the API -------------------------------------------------------------------------------------------

  function ApiError(status, code, message, where) {
    this.status = status;
    this.code = code;
    this.message = message;
    this.where = where;
  }
  ApiError.prototype.toString = function () {
    var text = this.message + (this.status ? " (" + this.status + (this.code ? " " + this.code : "") + ")" : "");
    return this.where ? text + " [" + this.where + "]" : text;
  };

  // GET path?params with the bearer credential; resolves to the parsed body, rejects with an ApiError.
  function api(path, params, token) {
    var query = new URLSearchParams();
    Object.keys(params || {}).forEach(function (name) {
      if (params[name] !== null && params[name] !== undefined && params[name] !== "") query.set(name, params[name]);
    });
    var url = path + (query.toString() ? "?" + query.toString() : "");
    return fetch(url, { headers: { Accept: "application/json", Authorization: "Bearer " + token } }).then(
      function (response) {
        return response.text().then(function (text) {
          var body = null;
          try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
          if (response.ok && body !== null) return body;
          var error = body && body.error;
          if (error) throw new ApiError(response.status, error.code, error.message, error.where);
          if (response.status === 404) {
            throw new ApiError(404, "not_found", "This figure is not served by this Agora (" + path + ").");
          }
          throw new ApiError(response.status, null, response.statusText || "The server answered without figures.");
        });
      },
      function (failure) {
        throw new ApiError(0, "network", "Agora could not be reached: " + failure.message);
      }
    );
  }

  // ---- sections ------------------------------------------------------------------------------------------

  function sectionBody(id) {
    return document.querySelector("#" + id + " .body");
  }

  function showError(id, error) {
    var body = clear(sectionBody(id));
    var box = el("p", "error", "Could not load this: " + String(error));
    box.setAttribute("role", "alert");
    body.appendChild(box);
  }

  function empty(text) {
    return el("p", "empty", text);
  }

  // columns: [{title, value: row -> string, numeric}]
  function table(columns, rows, label) {
    var node = el("table");
    if (label) node.setAttribute("aria-label", label);
    var head = node.appendChild(el("thead")).appendChild(el("tr"));
    columns.forEach(function (column) {
      var th = head.appendChild(el("th", column.numeric ? "num" : "", column.title));
      th.scope = "col";
    });
    var tbody = node.appendChild(el("tbody"));
    rows.forEach(function (row) {
      var tr = tbody.appendChild(el("tr"));
      columns.forEach(function (column) {
        tr.appendChild(el("td", column.numeric ? "num" : column.code ? "code" : "", column.value(row)));
      });
    });
    return node;
  }

  // figures: [[key, label, value string]] -> <dl class="cards"> with data-figure on each card
  function cards(figures) {
    var list = el("dl", "cards");
    figures.forEach(function (figure) {
      var card = list.appendChild(el("div", "card"));
      card.dataset.figure = figure[0];
      card.appendChild(el("dt", "", figure[1]));
      card.appendChild(el("dd", "", figure[2]));
    });
    return list;
  }

  // Unmet-demand clusters (GET /v1/operator/unmet-demand, /v1/seller/insights/unmet-demand), newest first.
  var REASONS = { no_results: "no results", low_relevance: "low relevance", no_clicks: "no clicks" };
  function clusterList(report) {
    if (!report.clusters.length) return empty("Nothing went unanswered in this period.");
    var list = el("ol", "clusters");
    report.clusters.forEach(function (cluster) {
      var item = list.appendChild(el("li", "cluster"));
      item.appendChild(el("h3", "label", cluster.label));
      item.appendChild(el("p", "meta",
        count(cluster.searches) + " searches · " + count(cluster.sessions) + " sessions · first seen " +
        dateTimeLabel(cluster.first_seen) + " · last seen " + dateTimeLabel(cluster.last_seen)));
      var reasons = item.appendChild(el("ul", "chips reasons"));
      Object.keys(cluster.reasons).forEach(function (reason) {
        reasons.appendChild(el("li", "", (REASONS[reason] || reason) + ": " + count(cluster.reasons[reason])));
      });
      if (cluster.categories.length) {
        var categories = item.appendChild(el("ul", "chips categories"));
        categories.setAttribute("aria-label", "Categories");
        cluster.categories.forEach(function (category) { categories.appendChild(el("li", "", category)); });
      }
      var examples = item.appendChild(el("ul", "examples"));
      cluster.examples.forEach(function (example) {
        var line = examples.appendChild(el("li"));
        line.appendChild(el("span", "query", example.query));
        line.appendChild(document.createTextNode(" "));
        line.appendChild(el("span", "when", "(" + (REASONS[example.reason] || example.reason) + ", " +
          dateTimeLabel(example.searched_at) + ")"));
      });
    });
    return list;
  }

  // ---- charts --------------------------------------------------------------------------------------------

  var BASE_LAYOUT = {
    margin: { l: 64, r: 16, t: 8, b: 40 },
    paper_bgcolor: "#fff",
    plot_bgcolor: "#fff",
    font: { family: "system-ui, sans-serif", size: 12, color: "#1a1f36" },
    legend: { orientation: "h", y: -0.18 },
    hovermode: "x unified",
  };
  var CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

  function layout(extra) {
    var merged = {};
    [BASE_LAYOUT, extra || {}].forEach(function (source) {
      Object.keys(source).forEach(function (key) { merged[key] = source[key]; });
    });
    return merged;
  }

  function plot(id, traces, extraLayout) {
    var node = document.getElementById(id);
    if (!window.Plotly) {
      clear(node).appendChild(el("p", "error", "The charting library did not load."));
      return;
    }
    node.dataset.points = String(traces.reduce(function (total, trace) {
      return total + (trace.x || trace.y || []).length;
    }, 0));
    window.Plotly.react(node, traces, layout(extraLayout), CONFIG);
  }

  // A function that puts the page back as it was loaded: the sections' first content, no charts, the
  // currency picker hidden. Called on sign-out and before new figures, so nothing stale stays visible.
  function resetter(sections, charts) {
    var pristine = {};
    sections.forEach(function (id) { pristine[id] = sectionBody(id).cloneNode(true); });
    return function () {
      charts.forEach(purge);
      sections.forEach(function (id) {
        var body = sectionBody(id);
        body.parentNode.replaceChild(pristine[id].cloneNode(true), body);
      });
      var currency = clear(document.getElementById("currency"));
      currency.parentNode.hidden = true;
    };
  }

  function purge(id) {
    var node = document.getElementById(id);
    if (window.Plotly && node) window.Plotly.purge(node);
    if (node) clear(node);
  }

  // ---- the page's frame ----------------------------------------------------------------------------------

  // Wires the sign-in form, the period picker and sign-out; calls load({token, since, until, bucket}) each
  // time the figures must be (re)fetched. load returns a promise that rejects with an ApiError on a 401.
  function start(options) {
    var credential = new Credential(options.storageKey);
    var signin = document.getElementById("signin");
    var signinError = document.getElementById("signin-error");
    var form = document.getElementById("signin-form");
    var input = document.getElementById("credential");
    var dashboard = document.getElementById("dashboard");
    var signOut = document.getElementById("sign-out");
    var periodForm = document.getElementById("period-form");
    var sinceInput = document.getElementById("since");
    var untilInput = document.getElementById("until");
    var bucketInput = document.getElementById("bucket");
    var status = document.getElementById("status");
    var periodLabel = document.getElementById("period");
    var params = new URLSearchParams(location.search);
    var query = { since: params.get("since"), until: params.get("until"), bucket: params.get("bucket") };
    if (bucketInput && query.bucket) bucketInput.value = query.bucket;
    var loading = 0;

    function setState(state) { document.body.dataset.state = state; }

    function askForCredential(message) {
      credential.clear();
      options.reset();
      dashboard.hidden = true;
      signOut.hidden = true;
      signin.hidden = false;
      signinError.hidden = !message;
      signinError.textContent = message || "";
      input.value = "";
      input.focus();
      setState("signed-out");
    }

    function showPeriod(period) {
      sinceInput.value = isoDate(new Date(period.since));
      untilInput.value = lastDay(period.until);
      periodLabel.textContent = "From " + dateTimeLabel(period.since) + " to " + dateTimeLabel(period.until) +
        " (exclusive)";
    }

    function load() {
      var token = credential.get();
      if (!token) { askForCredential(""); return; }
      var mine = ++loading;
      signin.hidden = true;
      dashboard.hidden = false;
      signOut.hidden = false;
      status.textContent = "Loading…";
      setState("loading");
      options.load({ token: token, since: query.since, until: query.until, bucket: query.bucket }, showPeriod).then(
        function () {
          if (mine !== loading) return;
          status.textContent = "";
          setState("ready");
        },
        function (error) {
          if (mine !== loading) return;
          status.textContent = "";
          if (error instanceof ApiError && error.status === 401) {
            askForCredential(options.refused + " " + String(error));
          } else {
            status.textContent = "Some figures could not be loaded.";
            setState("ready");
          }
        }
      );
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = input.value.trim();
      if (!value) return;
      credential.set(value);
      input.value = "";
      load();
    });
    signOut.addEventListener("click", function () { askForCredential(""); });
    periodForm.addEventListener("submit", function (event) {
      event.preventDefault();
      query.since = sinceInput.value || null;
      query.until = untilInput.value ? nextDay(untilInput.value) : null;
      query.bucket = bucketInput ? bucketInput.value : null;
      var next = new URLSearchParams();
      Object.keys(query).forEach(function (name) { if (query[name]) next.set(name, query[name]); });
      history.replaceState(null, "", location.pathname + "?" + next.toString());
      load();
    });
    load();
  }

  // Settles every request; rejects with the first 401 so the page asks for the credential again.
  function settle(requests) {
    return Promise.allSettled(requests).then(function (results) {
      results.forEach(function (result) {
        if (result.status === "rejected" && result.reason instanceof ApiError && result.reason.status === 401) {
          throw result.reason;
        }
      });
      return results;
    });
  }

  // Runs render(value) for a fulfilled request, or shows its error in the section; counts failures.
  function render(result, sectionId, draw) {
    if (result.status === "rejected") {
      showError(sectionId, result.reason);
      return false;
    }
    try {
      draw(result.value);
      return true;
    } catch (e) {
      showError(sectionId, e);
      return false;
    }
  }

  // The currencies in money rows, largest first by `key`.
  function currencies(rows, key) {
    return rows.slice().sort(function (a, b) { return b[key] - a[key]; }).map(function (row) { return row.currency; });
  }

  function fillCurrencySelect(select, list, onChange) {
    var previous = select.value;
    clear(select);
    list.forEach(function (currency) { select.appendChild(el("option", "", currency)); });
    select.parentNode.hidden = list.length < 2; // one currency: nothing to choose
    if (list.indexOf(previous) >= 0) select.value = previous;
    select.onchange = onChange;
  }

  return {
    COLORS: COLORS,
    ApiError: ApiError,
    api: api,
    cards: cards,
    clear: clear,
    clusterList: clusterList,
    count: count,
    currencies: currencies,
    dayLabel: dayLabel,
    dateTimeLabel: dateTimeLabel,
    decimal: decimal,
    el: el,
    empty: empty,
    fillCurrencySelect: fillCurrencySelect,
    major: major,
    money: money,
    percent: percent,
    plot: plot,
    purge: purge,
    render: render,
    resetter: resetter,
    sectionBody: sectionBody,
    settle: settle,
    showError: showError,
    start: start,
    table: table,
  };
})();
