// Keeps the leaderboard current: asks the JSON API for the same page every few seconds (with the
// last ETag, so an unchanged page costs a 304) and redraws the rows when it changed. Without this
// script the page is complete as served; names are only ever set as text.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !window.fetch) { return; }
  var api = board.getAttribute("data-api");
  var cards = board.getAttribute("data-cards");
  var every = parseInt(board.getAttribute("data-poll"), 10) || 5000;
  var etag = null;
  var SVG = "http://www.w3.org/2000/svg";
  var FILLS = ["#8b1a1a", "#1d4e89", "#2f5d1e", "#6b2d82", "#7a4b00", "#005f60", "#4a4a4a", "#a01a5c"];
  var fills = {};

  document.querySelectorAll("#rows tr[data-number] svg.avatar circle").forEach(function (circle) {
    fills[circle.closest("tr").getAttribute("data-number")] = circle.getAttribute("fill");
  });

  function signed(value) {
    if (value === null) { return "\u2014"; }
    if (value > 0) { return "+" + value; }
    if (value < 0) { return "\u2212" + (-value); }
    return "0";
  }

  function when(iso) {
    if (!iso) { return "\u2014"; }
    var d = new Date(iso);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getUTCFullYear() + "-" + two(d.getUTCMonth() + 1) + "-" + two(d.getUTCDate()) + " " +
      two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + " UTC";
  }

  function avatar(row) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "avatar"); svg.setAttribute("width", "32"); svg.setAttribute("height", "32");
    svg.setAttribute("viewBox", "0 0 32 32"); svg.setAttribute("aria-hidden", "true"); svg.setAttribute("focusable", "false");
    var circle = document.createElementNS(SVG, "circle");
    circle.setAttribute("cx", "16"); circle.setAttribute("cy", "16"); circle.setAttribute("r", "16");
    circle.setAttribute("fill", fills[row.number] || FILLS[row.number % FILLS.length]);
    var text = document.createElementNS(SVG, "text");
    text.setAttribute("x", "16"); text.setAttribute("y", "21.5"); text.setAttribute("text-anchor", "middle");
    text.setAttribute("font-size", "15"); text.setAttribute("font-family", "sans-serif");
    text.setAttribute("font-weight", "700"); text.setAttribute("fill", "#ffffff");
    var letter = (row.name.match(/[\p{L}\p{N}]/u) || ["?"])[0].toUpperCase();
    text.textContent = letter;
    svg.appendChild(circle); svg.appendChild(text);
    return svg;
  }

  function cell(tag, text, cls) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    if (text !== null) { el.textContent = text; }
    return el;
  }

  function draw(data) {
    var body = document.getElementById("rows");
    var rows = document.createDocumentFragment();
    data.rows.forEach(function (row) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-number", String(row.number));
      tr.appendChild(cell("td", String(row.rank), "num"));
      var who = cell("th", null, "who");
      who.setAttribute("scope", "row");
      who.appendChild(avatar(row));
      var link = cell("a", row.name);
      link.href = cards + "/c/" + row.number;
      who.appendChild(link);
      tr.appendChild(who);
      tr.appendChild(cell("td", String(row.score), "num"));
      var tier = cell("span", row.tier_name, "tier");
      tier.setAttribute("data-tier", row.tier);
      var td = cell("td", null); td.appendChild(tier); tr.appendChild(td);
      tr.appendChild(cell("td", signed(row.change), "num change"));
      rows.appendChild(tr);
    });
    if (!data.rows.length) {
      var empty = document.createElement("tr");
      var only = cell("td", "No citizens yet."); only.setAttribute("colspan", "5");
      empty.appendChild(only); rows.appendChild(empty);
    }
    body.replaceChildren(rows);
    var facts = { status: data.season.status, citizens: data.season.citizens, audits: data.season.audits,
      page: data.page, total_pages: data.total_pages };
    Object.keys(facts).forEach(function (key) {
      document.querySelectorAll('[data-live="' + key + '"]').forEach(function (el) { el.textContent = String(facts[key]); });
    });
    var next = document.querySelector('[data-live="next_audit_at"]');
    if (next) { next.textContent = when(data.season.next_audit_at); next.setAttribute("datetime", data.season.next_audit_at || ""); }
    board.setAttribute("data-updated", String(Date.now()));
  }

  function poll() {
    var headers = etag ? { "If-None-Match": etag } : {};
    fetch(api, { headers: headers, credentials: "omit" }).then(function (response) {
      if (response.status === 200) {
        etag = response.headers.get("ETag");
        return response.json().then(draw);
      }
      return null;
    }).catch(function () { return null; }).then(function () { setTimeout(poll, every); });
  }
  setTimeout(poll, every);
}());
