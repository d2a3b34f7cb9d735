/* The dispatch console (templates/alarms/): listens on the console's WebSocket and, on a
 * notice that concerns this page, reads the page's live sections again over HTTP
 * ([data-live-src]) and puts them in place, without a reload. The socket carries ids and
 * statuses only; what is shown is always rendered by the server with the viewer's
 * permissions and masking. New rows are highlighted and announced to screen readers.
 * Reconnects with a growing pause and reads everything again after a gap. No inline
 * script or style: the page runs under the strict CSP. */
(function () {
  "use strict";
  var root = document.getElementById("alarms-live");
  if (!root || !window.fetch || !window.WebSocket) return;

  var scope = root.getAttribute("data-scope");
  var incidentId = parseInt(root.getAttribute("data-incident"), 10) || null;
  var threadId = parseInt(root.getAttribute("data-thread"), 10) || null;
  var statusBox = document.getElementById("live-status");
  var announcer = document.getElementById("live-announcer");
  var sections = Array.prototype.slice.call(root.querySelectorAll("[data-live-src]"));
  var pause = 1000;
  var timer = null;
  var pending = [];
  var expired = false;
  var connectedOnce = false;

  function setStatus(state, text) {
    if (!statusBox) return;
    statusBox.setAttribute("data-state", state);
    statusBox.textContent = text || "";
  }

  function concerns(event) {
    if (scope === "console") return true;
    if (scope === "incident") {
      return event.incident === incidentId || event.event === "unit.changed";
    }
    if (scope === "thread") {
      return event.thread === threadId || (event.event === "incident.changed" && event.incident === incidentId);
    }
    return false;
  }

  function keys(section) {
    var seen = {};
    section.querySelectorAll("[data-key]").forEach(function (el) {
      seen[el.getAttribute("data-key")] = true;
    });
    return seen;
  }

  function refreshSection(section) {
    var src = section.getAttribute("data-live-src");
    return fetch(src, {
      cache: "no-store",
      credentials: "same-origin",
      // A background read: it does not count as the officer's activity (idle sign-out).
      headers: { Accept: "text/html", "X-Background-Refresh": "1" }
    }).then(function (response) {
      if (response.status === 403) throw new Error("forbidden");
      if (!response.ok || response.headers.get("X-Alarms-Fragment") !== "1") {
        throw new Error("expired"); // a login page after a redirect, or worse
      }
      return response.text();
    }).then(function (html) {
      var before = keys(section);
      var focused = document.activeElement && section.contains(document.activeElement) ? document.activeElement.id : "";
      section.innerHTML = html;
      section.querySelectorAll("[data-key]").forEach(function (el) {
        if (!before[el.getAttribute("data-key")]) el.classList.add("fresh");
      });
      if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    });
  }

  function announce(events) {
    if (!announcer) return;
    var said = [];
    events.forEach(function (event) {
      var opened = event.event === "incident.created" || (event.event === "sms.received" && event.opened);
      if (opened && root.getAttribute("data-new-incident")) {
        said.push(root.getAttribute("data-new-incident") + " " + (event.number || ""));
      }
      if (event.event === "sms.received" && root.getAttribute("data-new-sms")) {
        said.push(root.getAttribute("data-new-sms"));
      }
    });
    if (said.length) announcer.textContent = said.join("；");
  }

  function refreshAll() {
    timer = null;
    var events = pending;
    pending = [];
    Promise.all(sections.map(refreshSection)).then(function () {
      announce(events);
    }).catch(function (error) {
      expired = true;
      var forbidden = error && error.message === "forbidden" && root.getAttribute("data-forbidden");
      setStatus("expired", forbidden || root.getAttribute("data-expired"));
    });
  }

  function schedule(event) {
    if (expired) return;
    if (event) pending.push(event);
    if (timer === null) timer = window.setTimeout(refreshAll, 200); // one read for a burst
  }

  function connect() {
    var proto = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(proto + window.location.host + root.getAttribute("data-ws"));
    socket.onmessage = function (message) {
      var event;
      try {
        event = JSON.parse(message.data);
      } catch (e) {
        return;
      }
      if (event.event === "signed_out") {
        expired = true;
        setStatus("expired", root.getAttribute("data-expired"));
        return;
      }
      if (event.event === "hello") {
        pause = 1000;
        setStatus("live", root.getAttribute("data-connected"));
        root.setAttribute("data-live", "connected");
        if (connectedOnce) schedule(null); // what happened while the line was down
        connectedOnce = true;
        return;
      }
      if (concerns(event)) schedule(event);
    };
    socket.onclose = function () {
      root.setAttribute("data-live", "offline");
      if (expired) return;
      setStatus("offline", root.getAttribute("data-offline"));
      window.setTimeout(connect, pause);
      pause = Math.min(pause * 2, 15000);
    };
  }

  connect();
})();
