// The chat page's script: talks to the conversation API (messages, the conversation's cart), the cart API
// (a card's "Add to cart" puts that product in, by id) and the event API (clicks on cards).
"use strict";
(function () {
  var STORE_KEY = "agora.conversation";
  var JSON_HEADERS = { "Content-Type": "application/json", "Accept": "application/json" };
  var LIST_LINE = /^\s*(?:\d{1,2}[.)]|[-*\u2022])\s+/;  // "1. ...", "2) ...", "- ...": a line of a list
  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("text");
  var send = document.getElementById("send");
  var cart = document.getElementById("cart");
  var cartBody = document.getElementById("cart-body");
  var cartCount = document.getElementById("cart-count");
  var cartToggle = document.getElementById("cart-toggle");
  var details = document.getElementById("details");
  var conversationId = null;
  var busy = false;
  var searchOf = {};  // product id -> the search it was last shown by, to credit an add from a details card
  var clicked = {};  // the results a click was already reported for
  var shown = null;  // the product in the details dialog
  try { conversationId = sessionStorage.getItem(STORE_KEY); } catch (e) { /* storage off: one per page */ }

  // Every string from the server is set with textContent: seller text is data, never markup.
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function money(price) {
    if (!price || typeof price.amount !== "number") return "";
    try {
      var format = new Intl.NumberFormat(undefined, { style: "currency", currency: price.currency });
      var digits = format.resolvedOptions().maximumFractionDigits;
      return format.format(price.amount / Math.pow(10, digits));
    } catch (e) {
      return (price.amount / 100).toFixed(2) + " " + price.currency;
    }
  }

  function scrollDown() { window.scrollTo(0, document.body.scrollHeight); }

  function placeholder() {
    var box = el("span", "thumb placeholder", "No image");
    box.setAttribute("aria-hidden", "true");
    return box;
  }

  function image(url, lazy) {
    if (typeof url !== "string" || !/^https?:\/\//i.test(url)) return placeholder();
    var img = el("img", "thumb");
    img.alt = "";
    if (lazy) img.loading = "lazy";
    img.referrerPolicy = "no-referrer";
    img.addEventListener("error", function () { img.replaceWith(placeholder()); }, { once: true });
    img.src = url;
    return img;
  }

  function uuid4() {  // crypto.randomUUID needs a secure context; getRandomValues does not
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  async function errorText(response) {
    try {
      var body = await response.json();
      if (body && body.error && body.error.message) return body.error.message;
    } catch (e) { /* not JSON */ }
    return "Something went wrong (" + response.status + ").";
  }

  // -- the feedback loop: a card opened or added is a click on the search result it is ------------------

  function reportClick(product) {
    if (!product.search_id) return;  // shown by details or a comparison, not by a search: nothing to credit
    var key = product.search_id + "/" + product.product_id + "/" + product.position;
    if (clicked[key]) return;  // opened, then added: one click
    clicked[key] = true;
    var event = {
      event_id: uuid4(), type: "click", search_id: product.search_id, product_id: product.product_id,
      position: product.position, session_id: product.session_id || undefined
    };
    fetch("/v1/events", {
      method: "POST", headers: JSON_HEADERS, keepalive: true, body: JSON.stringify({ events: [event] })
    }).then(function (response) { if (!response.ok) delete clicked[key]; },
            function () { delete clicked[key]; });
  }

  // -- the cart ---------------------------------------------------------------------------------------

  function renderCart(view) {
    cartBody.replaceChildren();
    cartCount.classList.toggle("none", !view || !view.item_count);  // the panel says so (folded, the bar)
    if (!view || !view.item_count) {
      cartBody.appendChild(el("p", "muted", "Your cart is empty."));
      cartCount.textContent = "empty";
      return;
    }
    (view.sellers || []).forEach(function (group) {
      cartBody.appendChild(el("div", "group", group.seller_name));
      var list = el("ul");
      (group.lines || []).forEach(function (line) {
        var row = el("li");
        row.appendChild(el("span", "", line.quantity + " \u00d7 " + line.title));
        row.appendChild(el("span", "", money(line.line_total)));
        list.appendChild(row);
        if (line.problem) list.appendChild(el("li", "muted", line.problem));
      });
      cartBody.appendChild(list);
    });
    var totals = (view.totals || []).map(money);
    totals.forEach(function (total) {
      var row = el("div", "total");
      row.appendChild(el("span", "", "Total"));
      row.appendChild(el("span", "", total));
      cartBody.appendChild(row);
    });
    var items = view.item_count + (view.item_count === 1 ? " item" : " items");
    cartCount.textContent = [items].concat(totals).join(" \u00b7 ");
  }

  async function conversationCart() {
    if (!conversationId) await startConversation();
    var url = function () { return "/v1/conversations/" + encodeURIComponent(conversationId) + "/cart"; };
    var response = await fetch(url(), { method: "POST", headers: JSON_HEADERS });
    if (response.status === 404) {  // the stored conversation is gone: a new one, with its own cart
      await startConversation();
      response = await fetch(url(), { method: "POST", headers: JSON_HEADERS });
    }
    if (!response.ok) throw new Error(await errorText(response));
    return response.json();
  }

  function held(view, productId) {
    var quantity = 0;
    (view.sellers || []).forEach(function (group) {
      (group.lines || []).forEach(function (line) { if (line.product_id === productId) quantity = line.quantity; });
    });
    return quantity;
  }

  // One more of this very product, through the cart API; the assistant reads the same cart on its next turn.
  async function addToCart(product, button, note) {
    button.disabled = true;
    note.textContent = "";
    reportClick(product);
    try {
      var view = await conversationCart();
      var item = { quantity: held(view, product.product_id) + 1 };
      var searchId = product.search_id || searchOf[product.product_id];
      if (searchId) item.search_id = searchId;
      var response = await fetch("/v1/carts/" + view.cart_id + "/items/" + product.product_id, {
        method: "PUT", headers: JSON_HEADERS, body: JSON.stringify(item)
      });
      if (!response.ok) throw new Error(await errorText(response));
      renderCart(await response.json());
      button.textContent = "Added \u2713";
      button.classList.add("done");
      setTimeout(function () { button.textContent = "Add to cart"; button.classList.remove("done"); }, 1500);
    } catch (error) {
      note.textContent = error && error.message ? error.message : "Could not add it.";
    } finally {
      button.disabled = false;
    }
  }

  cartToggle.addEventListener("click", function () {
    var open = cart.classList.toggle("open");
    cartToggle.setAttribute("aria-expanded", String(open));
    cartToggle.textContent = open ? "Hide" : "Show";
  });

  // -- cards and their details ------------------------------------------------------------------------

  function openDetails(product) {
    shown = product;
    reportClick(product);
    document.getElementById("details-image").replaceChildren(image(product.image, false));
    document.getElementById("details-title").textContent = product.title;
    document.getElementById("details-seller").textContent = product.seller_name ? "Sold by " + product.seller_name : "";
    document.getElementById("details-price").textContent = money(product.price);
    document.getElementById("details-note").textContent = "";
    details.showModal();
  }

  document.getElementById("details-close").addEventListener("click", function () { details.close(); });
  document.getElementById("details-add").addEventListener("click", function (event) {
    if (shown) addToCart(shown, event.currentTarget, document.getElementById("details-note"));
  });
  details.addEventListener("click", function (event) { if (event.target === details) details.close(); });

  var AVAILABILITY = {
    preorder: "Preorder: not in stock yet",
    out_of_stock: "Out of stock",
    not_sold_here: "Not for sale on Agora right now"
  };

  function renderProducts(bubble, products) {
    var list = el("ul", "products");
    list.setAttribute("aria-label", "Products");
    products.forEach(function (product) {
      product.session_id = conversationId;  // the session its search was logged under
      if (product.search_id) searchOf[product.product_id] = product.search_id;
      var card = el("li", "card");
      var open = el("button", "open");
      open.type = "button";
      open.appendChild(image(product.image, true));
      var title = el("span", "title", product.title);
      title.id = "product-" + product.product_id + "-" + Math.random().toString(36).slice(2);
      open.appendChild(title);
      open.addEventListener("click", function () { openDetails(product); });
      card.appendChild(open);
      var body = el("div", "body");
      body.appendChild(el("div", "seller", product.seller_name ? "Sold by " + product.seller_name : ""));
      var price = money(product.price);
      if (product.converted_price) price += " (≈ " + money(product.converted_price) + ")";
      body.appendChild(el("div", "price", price));
      if (product.availability) {
        body.appendChild(el("div", "availability", AVAILABILITY[product.availability] || product.availability));
      }
      var note = el("div", "note");
      note.setAttribute("role", "status");
      var add = el("button", "add", "Add to cart");
      add.type = "button";
      add.disabled = Boolean(product.availability);  // it cannot go in the cart now
      add.setAttribute("aria-describedby", title.id);
      add.addEventListener("click", function () { addToCart(product, add, note); });
      body.appendChild(add);
      body.appendChild(note);
      card.appendChild(body);
      list.appendChild(card);
    });
    bubble.appendChild(list);
  }

  // -- replies ----------------------------------------------------------------------------------------

  // The reply as text, without the lines that only list the products its cards already show.
  function withoutListedCards(text, titles) {
    if (!titles.length) return text;
    var kept = text.split("\n").filter(function (line) {
      if (!LIST_LINE.test(line)) return true;
      var lower = line.toLowerCase();
      return !titles.some(function (title) { return lower.indexOf(title) !== -1; });
    });
    var tidy = kept.join("\n").replace(/\n{3,}/g, "\n\n").trim();
    return tidy || text;
  }

  function showReply(turn) {
    turn.reply.textContent = withoutListedCards(turn.text, turn.titles);
  }

  function handle(turn, name, data) {
    if (name === "products" && data && Array.isArray(data.products)) {
      if (data.products.length) {
        renderProducts(turn.bubble, data.products);
        data.products.forEach(function (product) { turn.titles.push(String(product.title).toLowerCase()); });
        showReply(turn);
      }
    } else if (name === "cart") {
      renderCart(data);
    } else if (name === "checkout") {
      renderCheckout(turn.bubble, data);
    } else if (name === "text" && data) {
      turn.text += data.text || "";
      showReply(turn);
    } else if (name === "error") {
      throw new Error((data && data.error && data.error.message) || "Something went wrong.");
    }
    scrollDown();
  }

  function renderCheckout(bubble, checkout) {
    if (!checkout || typeof checkout.checkout_url !== "string" || !/^https?:\/\//i.test(checkout.checkout_url)) return;
    var amount = checkout.total ? " " + money(checkout.total) : "";
    var link = el("a", "pay", "Pay" + amount + " on the secure page");
    link.href = checkout.checkout_url;
    link.rel = "noopener noreferrer";
    bubble.appendChild(link);
  }

  function parseBlock(block) {
    var name = "message", data = [];
    block.split(/\r\n|\r|\n/).forEach(function (line) {
      if (line.indexOf("event:") === 0) name = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
    });
    if (!data.length) return null;
    return { name: name, data: JSON.parse(data.join("\n")) };
  }

  async function readStream(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      var parts = buffer.split(/\r\n\r\n|\n\n|\r\r/);
      buffer = parts.pop();
      parts.forEach(function (block) {
        var event = parseBlock(block);
        if (event) onEvent(event.name, event.data);
      });
    }
    buffer += decoder.decode();
    if (buffer.trim()) {
      var last = parseBlock(buffer);
      if (last) onEvent(last.name, last.data);
    }
  }

  async function startConversation() {
    var response = await fetch("/v1/conversations", { method: "POST", headers: JSON_HEADERS, body: "{}" });
    if (!response.ok) throw new Error(await errorText(response));
    conversationId = (await response.json()).conversation_id;
    try { sessionStorage.setItem(STORE_KEY, conversationId); } catch (e) { /* fine */ }
  }

  async function post(text) {
    if (!conversationId) await startConversation();
    return fetch("/v1/conversations/" + encodeURIComponent(conversationId) + "/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream, application/json" },
      body: JSON.stringify({ text: text })
    });
  }

  async function say(text) {
    text = (text || "").trim();
    if (!text || busy) return;
    busy = true;
    send.disabled = true;
    log.setAttribute("aria-busy", "true");
    log.appendChild(el("div", "msg user", text));
    var bubble = el("div", "msg assistant");
    var turn = { bubble: bubble, reply: el("div", "reply"), text: "", titles: [] };
    bubble.appendChild(turn.reply);
    log.appendChild(bubble);
    scrollDown();
    try {
      var response = await post(text);
      if (response.status === 404) {  // the stored conversation is gone (e.g. a new database): start again
        conversationId = null;
        response = await post(text);
      }
      if (!response.ok) throw new Error(await errorText(response));
      var type = response.headers.get("content-type") || "";
      var onEvent = function (name, data) { handle(turn, name, data); };
      if (type.indexOf("text/event-stream") === 0 && response.body && response.body.getReader) {
        await readStream(response, onEvent);
      } else {
        var answer = await response.json();
        if (answer.products) onEvent("products", { products: answer.products });
        if (answer.cart) onEvent("cart", answer.cart);
        (answer.checkouts || (answer.checkout ? [answer.checkout] : [])).forEach(function (page) {
          onEvent("checkout", page);
        });
        onEvent("text", { text: answer.reply || "" });
      }
      if (!turn.reply.textContent) turn.reply.textContent = "(no reply)";
    } catch (error) {
      bubble.classList.add("error");
      turn.reply.textContent = error && error.message ? error.message : "Something went wrong.";
    } finally {
      busy = false;
      send.disabled = false;
      log.removeAttribute("aria-busy");
      input.focus();
      scrollDown();
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;  // the text stays in the box until the current answer is in
    var text = input.value;
    input.value = "";
    say(text);
  });
})();
