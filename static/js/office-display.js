/* The hall's public display (bookings/office/display.html): asks the calls JSON every couple
 * of seconds and updates the page in place, without a reload. A new call is written to an
 * aria-live region so a screen reader announces it. Text only (textContent), no inline
 * script or style: the page runs under the strict CSP. */
(function () {
  "use strict";
  var root = document.getElementById("display");
  if (!root || !window.fetch) return;

  var source = root.getAttribute("data-source");
  var interval = parseInt(root.getAttribute("data-interval"), 10) || 2000;
  var say = root.getAttribute("data-announce") || "{number} {counter}";
  var emptyText = root.getAttribute("data-empty") || "";
  var offlineText = root.getAttribute("data-offline") || "";
  var lastKey = root.getAttribute("data-latest") || "";

  function byId(id) {
    return document.getElementById(id);
  }

  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (text) {
      var td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    });
    return tr;
  }

  function fillTable(calls) {
    var body = byId("recent-calls");
    var rows = document.createDocumentFragment();
    calls.forEach(function (call) {
      rows.appendChild(row([call.number, call.counter, call.at]));
    });
    if (!calls.length) {
      var tr = row([emptyText]);
      tr.firstChild.colSpan = 3;
      rows.appendChild(tr);
    }
    body.replaceChildren(rows);
  }

  function newCalls(calls) {
    // Calls come newest first: the new ones are those before the one shown last.
    for (var i = 0; i < calls.length; i++) {
      if (calls[i].key === lastKey) return calls.slice(0, i);
    }
    return calls.slice(0, 1); // the last one shown has scrolled off: announce the newest
  }

  function announce(calls) {
    var fresh = newCalls(calls);
    if (!fresh.length) return;
    var latest = calls[0];
    lastKey = latest.key;
    root.setAttribute("data-latest", lastKey);
    byId("latest-number").textContent = latest.number;
    byId("latest-counter").textContent = latest.counter;
    var box = byId("latest-number").parentNode;
    box.classList.remove("flash");
    void box.offsetWidth; // restart the highlight
    box.classList.add("flash");
    byId("announcer").textContent = fresh
      .slice()
      .reverse()
      .map(function (call) {
        return say.replace("{number}", call.number).replace("{counter}", call.counter);
      })
      .join("；");
  }

  function render(data) {
    var calls = data.calls || [];
    fillTable(calls);
    byId("waiting-count").textContent = data.waiting;
    byId("display-time").textContent = data.time;
    if (calls.length) {
      announce(calls);
    } else if (lastKey) { // a new day: nothing called yet
      lastKey = "";
      byId("latest-number").textContent = "—";
      byId("latest-counter").textContent = "";
    }
    byId("display-status").textContent = "";
  }

  function poll() {
    fetch(source, { cache: "no-store", credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(render)
      .catch(function () {
        byId("display-status").textContent = offlineText;
      })
      .then(function () {
        window.setTimeout(poll, interval);
      });
  }

  window.setTimeout(poll, interval);
})();
