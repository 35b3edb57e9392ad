/* The floor page's actions. Every action is one request to the REST API (the same endpoints a
   tablet client uses) with the session's CSRF token and an Idempotency-Key made for that action:
   when the answer is lost, "Send again" repeats the request with the same key, so it is recorded
   once. Refusals are shown from the API's problem document (detail and field errors); the page
   itself decides nothing. */
(function () {
  "use strict";

  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var station = document.getElementById("station");
  var messageBox = document.getElementById("message");
  var retryBox = document.getElementById("retry");
  if (!station) return;

  var pending = null; // the action whose answer did not arrive
  var scanned = []; // [{code, kind: "lot" | "serial", item, itemCode, quantity}]
  var busy = false;

  // crypto.randomUUID needs a secure context; a tablet on plain http still has getRandomValues.
  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function show(kind, text, lines) {
    messageBox.hidden = false;
    messageBox.className = "message " + kind;
    messageBox.textContent = "";
    var head = document.createElement("strong");
    head.textContent = text;
    messageBox.appendChild(head);
    (lines || []).forEach(function (line) {
      var item = document.createElement("div");
      item.textContent = line;
      messageBox.appendChild(item);
    });
    messageBox.scrollIntoView({ block: "nearest" });
  }

  function problemLines(body) {
    var lines = [];
    if (body && Array.isArray(body.errors)) {
      body.errors.forEach(function (error) {
        if (error.message && error.message !== body.detail) {
          lines.push((error.field && error.field !== "non_field_errors" ? error.field + ": " : "") + error.message);
        }
      });
    }
    return lines;
  }

  function refused(response, body) {
    if (response.status === 401) {
      show("error", "Your session has ended: log in again.", []);
      return;
    }
    var detail = body && body.detail ? body.detail : "The server refused (" + response.status + ").";
    show("error", detail, problemLines(body));
  }

  function setBusy(value) {
    busy = value;
    document.body.classList.toggle("busy", value);
  }

  function operationId() {
    var panel = document.getElementById("operation");
    return panel ? panel.getAttribute("data-operation") : null;
  }

  function refresh(operation) {
    var url = station.getAttribute("data-refresh") + "?partial=1" + (operation ? "&operation=" + encodeURIComponent(operation) : "");
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null) {
          station.innerHTML = html;
          renderScanned();
        }
      })
      .catch(function () { /* the next action refreshes again */ });
  }

  // action: {url, body, key, done(body) → message, operation, after()}
  function send(action) {
    if (busy) return Promise.resolve();
    pending = action;
    retryBox.hidden = true;
    setBusy(true);
    return fetch(action.url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrf,
        "Idempotency-Key": action.key,
      },
      body: JSON.stringify(action.body),
    }).then(
      function (response) {
        pending = null;
        return response.text().then(function (text) {
          var body = null;
          try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
          setBusy(false);
          if (response.ok) {
            if (action.after) action.after(body);
            show("ok", action.done(body), response.headers.get("Idempotent-Replayed") ? ["(recorded before: this is the first answer again)"] : []);
            return refresh(action.operation);
          }
          refused(response, body);
        });
      },
      function () {
        setBusy(false);
        messageBox.hidden = true;
        retryBox.hidden = false;
        retryBox.scrollIntoView({ block: "nearest" });
      }
    );
  }

  function act(name, url, body, done, after) {
    return send({ key: newKey(), url: url, body: body, done: done, operation: operationId(), after: after });
  }

  function now() { return new Date().toISOString(); }

  // --- operator actions ---------------------------------------------------------------------

  var verbs = { start: "Started", pause: "Paused", resume: "Resumed", complete: "Completed" };

  function operationAction(name) {
    var id = operationId();
    if (!id) return;
    act(name, "/api/v1/operations/" + id + "/" + name + "/", { recorded_at: now() }, function (body) {
      return verbs[name] + ": " + (body ? body.work_order_number || "" : "") + " operation " + (body ? body.sequence : "") + " is " + (body ? body.status : name) + ".";
    });
  }

  // --- scanning -----------------------------------------------------------------------------

  function materials() {
    var node = document.getElementById("materials");
    try { return node ? JSON.parse(node.textContent) : []; } catch (e) { return []; }
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      return response.ok ? response.json() : { results: [] };
    });
  }

  function addScan(raw) {
    var code = (raw || "").trim();
    if (!code) return;
    if (scanned.some(function (row) { return row.code === code; })) {
      show("warn", code + " is scanned already.", []);
      return;
    }
    var wanted = materials().map(function (m) { return m.item; });
    var enc = encodeURIComponent(code);
    Promise.all([getJSON("/api/v1/lots/?code=" + enc), getJSON("/api/v1/serials/?code=" + enc)]).then(function (found) {
      var candidates = (found[0].results || []).map(function (lot) {
        return { code: code, kind: "lot", item: lot.item, itemCode: lot.item_code, quantity: "" };
      }).concat((found[1].results || []).map(function (serial) {
        return { code: code, kind: "serial", item: serial.item, itemCode: serial.item_code, quantity: "1" };
      }));
      if (!candidates.length) {
        show("error", "No lot or serial number " + code + " is known.", ["Check the label and scan again."]);
        return;
      }
      var pick = candidates.filter(function (c) { return wanted.indexOf(c.item) >= 0; })[0] || candidates[0];
      scanned.push(pick);
      renderScanned();
      messageBox.hidden = true;
      var input = document.querySelector('[data-scan-quantity="' + (scanned.length - 1) + '"]');
      if (input) input.focus();
    });
  }

  function renderScanned() {
    var table = document.getElementById("scanned");
    if (!table) return;
    var body = table.querySelector("tbody");
    body.textContent = "";
    scanned.forEach(function (row, index) {
      var tr = document.createElement("tr");
      var code = document.createElement("td");
      code.textContent = row.code + " (" + row.kind + ")";
      var item = document.createElement("td");
      item.textContent = row.itemCode;
      var qty = document.createElement("td");
      if (row.kind === "lot") {
        var input = document.createElement("input");
        input.type = "number";
        input.min = "0";
        input.step = "any";
        input.inputMode = "decimal";
        input.placeholder = "quantity";
        input.value = row.quantity;
        input.setAttribute("data-scan-quantity", String(index));
        input.addEventListener("input", function () { scanned[index].quantity = input.value; });
        qty.appendChild(input);
      } else {
        qty.textContent = "1";
      }
      var remove = document.createElement("td");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn small ghost";
      button.textContent = "Remove";
      button.setAttribute("data-remove-scan", String(index));
      remove.appendChild(button);
      tr.appendChild(code);
      tr.appendChild(item);
      tr.appendChild(qty);
      tr.appendChild(remove);
      body.appendChild(tr);
    });
    table.hidden = scanned.length === 0;
  }

  function lines(id) {
    var node = document.getElementById(id);
    if (!node) return [];
    return node.value.split(/[\s,;]+/).map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function value(id) {
    var node = document.getElementById(id);
    return node ? node.value.trim() : "";
  }

  function report(form) {
    var id = operationId();
    var body = {
      quantity_good: value("quantity_good") || "0",
      quantity_scrap: value("quantity_scrap") || "0",
      scrap_reason: value("scrap_reason") || null,
      consumed: scanned.map(function (row) {
        var line = { item: row.item, quantity: row.quantity === "" ? null : row.quantity };
        line[row.kind] = row.code;
        return line;
      }),
      recorded_at: now(),
    };
    if (document.getElementById("produced_serials")) body.produced_serials = lines("produced_serials");
    if (document.getElementById("scrapped_serials")) body.scrapped_serials = lines("scrapped_serials");
    if (document.getElementById("produced_lot_code")) body.produced_lot_code = value("produced_lot_code") || null;
    act("report", "/api/v1/operations/" + id + "/reports/", body, function (result) {
      var used = result && result.consumed ? result.consumed.length : 0;
      return "Reported " + result.quantity_good.replace(/\.?0+$/, "") + " good, " + result.quantity_scrap.replace(/\.?0+$/, "") +
        " scrap on " + result.work_order_number + " (" + used + " component issue" + (used === 1 ? "" : "s") + ").";
    }, function () { scanned = []; });
  }

  // --- downtime -----------------------------------------------------------------------------

  function recordStop(form) {
    var minutes = parseInt(form.elements.minutes_ago.value || "0", 10);
    var started = new Date(Date.now() - minutes * 60000);
    var body = { work_center: parseInt(form.getAttribute("data-work-center"), 10), reason: form.elements.reason.value, started_at: started.toISOString() };
    if (!form.elements.still_down.checked) body.ended_at = now();
    act("downtime", "/api/v1/downtime/", body, function (result) {
      return result && result.ended_at ? "Stop recorded: " + result.reason + ", " + result.duration_minutes + " min." : "Work center down: " + (result ? result.reason : "") + ".";
    });
  }

  function closeStop(id) {
    act("downtime-close", "/api/v1/downtime/" + id + "/close/", { ended_at: now() }, function (result) {
      return "Running again after " + (result ? result.duration_minutes : "?") + " min (" + (result ? result.reason : "") + ").";
    });
  }

  // --- wiring (delegated: the station part is replaced after each action) -------------------

  document.addEventListener("click", function (event) {
    var target = event.target.closest("button");
    if (!target || target.disabled) return;
    if (target.hasAttribute("data-action")) {
      operationAction(target.getAttribute("data-action"));
    } else if (target.hasAttribute("data-step")) {
      var input = document.getElementById(target.getAttribute("data-target"));
      var next = (parseFloat(input.value) || 0) + parseFloat(target.getAttribute("data-step"));
      input.value = String(Math.max(0, next));
    } else if (target.id === "scan-add") {
      var scan = document.getElementById("scan");
      addScan(scan.value);
      scan.value = "";
    } else if (target.hasAttribute("data-remove-scan")) {
      scanned.splice(parseInt(target.getAttribute("data-remove-scan"), 10), 1);
      renderScanned();
    } else if (target.hasAttribute("data-close-downtime")) {
      closeStop(target.getAttribute("data-close-downtime"));
    } else if (target.hasAttribute("data-retry") && pending) {
      send(pending);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.id === "scan") {
      event.preventDefault();
      addScan(event.target.value);
      event.target.value = "";
    }
  });

  document.addEventListener("submit", function (event) {
    if (event.target.id === "report-form") {
      event.preventDefault();
      report(event.target);
    } else if (event.target.id === "downtime-form") {
      event.preventDefault();
      recordStop(event.target);
    }
  });
})();
