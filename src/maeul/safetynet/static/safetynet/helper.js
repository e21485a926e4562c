/* The helper's phone page: check-ins are kept on the phone before they are sent, and sent until the server
   confirms them, so a visit recorded without a connection is never lost. Each submission carries a client_id
   the server stores once, so sending it again (a lost answer, two tabs, a retry) never stores it twice. */
(function () {
  "use strict";

  var QUEUE_KEY = "maeul.helper.queue.v1";
  var RETRY_MS = 30000;
  var root = document.querySelector("[data-helper-page]");
  if (!root) return;

  var endpoint = root.getAttribute("data-endpoint");
  var user = root.getAttribute("data-user");
  var strings = JSON.parse(document.getElementById("helper-strings").textContent);
  var flushing = false;
  var inFlight = {}; // client_ids being sent right now, so a timer's flush does not send them alongside

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // --- the queue: localStorage survives reloads and restarts, and is written synchronously before sending ---

  function readQueue() {
    try {
      var items = JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (e) {
      return [];
    }
  }

  function writeQueue(items) {
    localStorage.setItem(QUEUE_KEY, JSON.stringify(items));
  }

  function updateItem(clientId, changes) {
    writeQueue(readQueue().map(function (item) {
      return item.client_id === clientId ? Object.assign({}, item, changes) : item;
    }));
  }

  function queued(clientId, state) {
    return readQueue().filter(function (item) { return item.client_id === clientId && item.state === state; })[0];
  }

  function removeItem(clientId) {
    writeQueue(readQueue().filter(function (item) { return item.client_id !== clientId; }));
  }

  // --- showing the queue ---

  var pendingBox = document.getElementById("pending");
  var sentBox = document.getElementById("sent");
  var netBanner = document.getElementById("net-status");

  function text(tag, className, content) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    el.textContent = content;
    return el;
  }

  function stateLabel(item) {
    if (item.user !== user) return strings.other_user;
    if (item.state === "login") return strings.login_again;
    if (item.state === "rejected") return strings.rejected + " " + (item.error || "");
    return strings.waiting;
  }

  function render() {
    var mine = readQueue();
    var list = pendingBox.querySelector("ul");
    list.textContent = "";
    mine.forEach(function (item) {
      var li = document.createElement("li");
      li.className = "pending-item " + (item.user !== user ? "other" : item.state || "waiting");
      li.setAttribute("data-client-id", item.client_id);
      li.appendChild(text("strong", "", item.label));
      li.appendChild(text("span", "result", strings.results[item.result] || item.result));
      li.appendChild(text("span", "when", new Date(item.occurred_at).toLocaleString()));
      li.appendChild(text("span", "state", stateLabel(item)));
      if (item.state === "rejected" && item.user === user) {
        var discard = text("button", "secondary", strings.discard);
        discard.type = "button";
        discard.addEventListener("click", function () {
          if (window.confirm(strings.discard_confirm)) {
            removeItem(item.client_id);
            render();
          }
        });
        li.appendChild(discard);
      }
      list.appendChild(li);
    });
    pendingBox.hidden = mine.length === 0;
    pendingBox.querySelector(".count").textContent = String(mine.length);
    var badge = document.getElementById("pending-count");
    if (badge) {
      badge.textContent = String(mine.length);
      badge.hidden = mine.length === 0;
    }
    var needsLogin = mine.some(function (item) { return item.user === user && item.state === "login"; });
    pendingBox.querySelector(".login-hint").hidden = !needsLogin;
    var formNote = document.getElementById("form-pending-note");
    if (formNote) {
      var household = Number(formNote.getAttribute("data-household"));
      formNote.hidden = !mine.some(function (item) { return item.household_id === household; });
    }
  }

  function showSent(item, answer) {
    sentBox.hidden = false;
    var li = document.createElement("li");
    li.className = "sent-item";
    li.setAttribute("data-client-id", item.client_id);
    li.appendChild(text("strong", "", item.label));
    li.appendChild(text("span", "", answer.message));
    sentBox.querySelector("ul").appendChild(li);
  }

  function showNetwork() {
    if (netBanner) netBanner.hidden = navigator.onLine;
  }

  // --- sending ---

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : root.getAttribute("data-csrf");
  }

  function payload(item) {
    return {
      client_id: item.client_id,
      household_id: item.household_id,
      schedule_id: item.schedule_id,
      kind: item.kind,
      result: item.result,
      crisis_signs: item.crisis_signs,
      note: item.note,
      occurred_at: item.occurred_at,
    };
  }

  /* Send one item. Resolves with the server's answer once it is stored, or with null when it stays queued.
     Only a readable answer naming this client_id counts: a cut-off answer is not a confirmation. */
  function send(item) {
    inFlight[item.client_id] = true;
    return fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual", // an ended session answers with a redirect to the login page
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: JSON.stringify(payload(item)),
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
        updateItem(item.client_id, { state: "login" });
        return null;
      }
      if (response.status >= 500) return null;
      return response.json().then(function (answer) {
        if (response.ok && answer.client_id === item.client_id) {
          removeItem(item.client_id);
          return answer;
        }
        if (!response.ok) {
          updateItem(item.client_id, { state: "rejected", error: answer.detail || "" });
        }
        return null;
      });
    }).catch(function () {
      return null; // no connection, or the answer was lost: it stays queued and is sent again
    }).then(function (answer) {
      delete inFlight[item.client_id];
      return answer;
    });
  }

  function flush() {
    if (flushing) return Promise.resolve();
    flushing = true;
    var mine = readQueue().filter(function (item) {
      return item.user === user && item.state !== "rejected" && !inFlight[item.client_id];
    });
    var chain = Promise.resolve();
    mine.forEach(function (item) {
      chain = chain.then(function () {
        return send(item).then(function (answer) {
          if (!answer) return;
          showSent(item, answer);
          if (form && Number(form.getAttribute("data-household")) === item.household_id) {
            showOutcome(answer.case_id || answer.verification_task_id ? "opened" : "saved", answer.message);
          }
        });
      });
    });
    return chain.then(function () {
      flushing = false;
      render();
    });
  }

  // --- the check-in form ---

  var form = document.getElementById("check-in-form");
  var outcome = document.getElementById("outcome");

  function showOutcome(className, message) {
    outcome.className = "outcome card " + className;
    outcome.querySelector(".message").textContent = message;
    outcome.hidden = false;
    form.hidden = true;
    outcome.scrollIntoView({ block: "start" });
    outcome.focus();
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      if (!data.get("result")) {
        form.querySelector(".result-error").hidden = false;
        return;
      }
      var item = {
        client_id: newClientId(),
        user: user,
        label: form.getAttribute("data-label"),
        household_id: Number(form.getAttribute("data-household")),
        schedule_id: form.getAttribute("data-schedule") ? Number(form.getAttribute("data-schedule")) : null,
        kind: data.get("kind"),
        result: data.get("result"),
        crisis_signs: data.getAll("crisis_signs"),
        note: data.get("note") || "",
        occurred_at: new Date().toISOString(),
        state: "waiting",
      };
      // Kept first, sent second: whatever happens to the request, the check-in is on the phone.
      writeQueue(readQueue().concat([item]));
      render();
      form.querySelector("button[type=submit]").disabled = true;
      send(item).then(function (answer) {
        render();
        if (answer) {
          showOutcome(answer.case_id || answer.verification_task_id ? "opened" : "saved", answer.message);
        } else if (queued(item.client_id, "login")) {
          showOutcome("pending", strings.kept_login);
        } else if (queued(item.client_id, "rejected")) {
          showOutcome("rejected", strings.rejected + " " + queued(item.client_id, "rejected").error);
        } else {
          showOutcome("pending", strings.kept_offline);
        }
      });
    });
    form.querySelectorAll("input[name=result]").forEach(function (input) {
      input.addEventListener("change", function () {
        form.querySelector(".result-error").hidden = true;
      });
    });
  }

  // --- acknowledging an alert without leaving the page ---

  document.querySelectorAll("form.ack-form").forEach(function (ack) {
    ack.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = ack.querySelector("button");
      button.disabled = true;
      fetch(ack.action, {
        method: "POST",
        credentials: "same-origin",
        redirect: "manual",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      }).then(function (answer) {
        var card = ack.closest(".alert-card");
        card.classList.add("acknowledged");
        ack.replaceWith(text("p", "ack-done", answer.message));
      }).catch(function () {
        button.disabled = false;
        window.alert(strings.ack_failed);
      });
    });
  });

  // --- the service worker keeps the pages and assets for a reload without a connection ---

  var offlineNote = document.getElementById("offline-ready");

  function keepForOffline() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (!event.data || typeof event.data.kept !== "number") return;
      var ready = event.data.kept === event.data.of;
      root.setAttribute("data-offline", ready ? "ready" : "partial");
      if (offlineNote) offlineNote.hidden = !ready;
    });
    var worker = root.getAttribute("data-service-worker");
    navigator.serviceWorker.register(worker, { scope: root.getAttribute("data-scope") }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      var urls = JSON.parse(root.getAttribute("data-offline-urls") || "[]");
      registration.active.postMessage({ keep: urls });
    }).catch(function () {
      /* Without a service worker the queue still works; only a reload without a connection does not. */
      root.setAttribute("data-offline", "unavailable");
    });
  }

  window.addEventListener("online", function () { showNetwork(); flush(); });
  window.addEventListener("offline", showNetwork);
  window.addEventListener("storage", function (event) { if (event.key === QUEUE_KEY) render(); });
  showNetwork();
  render();
  // Unsent check-ins go first; refreshing the offline copy waits for them (one thing at a time on a poor line).
  flush().then(keepForOffline);
  window.setInterval(flush, RETRY_MS);
  window.maeulHelper = { flush: flush, queue: readQueue };
})();
