/* The console's live pages (issue 15): the live list and one live conversation.
 * Server-sent events first; if they do not get through (a proxy, an old browser), the same data is
 * polled as JSON. A file, not inline script: the Content-Security-Policy allows none. */
(function () {
  "use strict";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function follow(streamUrl, pollUrl, onData, modeEl) {
    var polling = null;
    function poll() {
      fetch(pollUrl(), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) { if (d) { onData(d); } })
        .catch(function () { /* try again at the next tick */ });
    }
    function startPolling() {
      if (polling) { return; }
      if (modeEl) { modeEl.textContent = "数秒ごとに確認"; }
      poll();
      polling = setInterval(poll, 3000);
    }
    if (!window.EventSource) { startPolling(); return; }
    var failures = 0;
    function open() {
      var es = new EventSource(streamUrl());
      es.onopen = function () { failures = 0; if (modeEl) { modeEl.textContent = "リアルタイム"; } };
      es.onmessage = function (m) { onData(JSON.parse(m.data)); };
      es.onerror = function () {
        es.close();
        failures += 1;
        if (failures >= 2) { startPolling(); } else { setTimeout(open, 1000); }
      };
    }
    open();
  }

  // ---- a short tone for a new crisis (no file: the Web Audio API) ------------------------------
  function beep() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      var ctx = new Ctx(), osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.2;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.6);
    } catch (e) { /* no sound: the visible notice is still there */ }
  }

  // ---- the live list ------------------------------------------------------------------------
  var table = document.getElementById("live-table");
  if (table) {
    var seen = null;
    var alertEl = document.getElementById("crisis-alert");
    var render = function (d) {
      var body = table.tBodies[0];
      body.textContent = "";
      if (!d.conversations.length) {
        var tr0 = el("tr", "empty"), td0 = el("td", "", "いま続いている相談はありません。");
        td0.colSpan = 8; tr0.appendChild(td0); body.appendChild(tr0);
      }
      d.conversations.forEach(function (c) {
        var tr = el("tr"); tr.dataset.key = c.key;
        var td = el("td"), a = el("a", "", c.last || "（メッセージなし）");
        a.href = "/staff/live/c/" + c.key; td.appendChild(a); tr.appendChild(td);
        tr.appendChild(el("td", "", c.channel));
        tr.appendChild(el("td", "", c.last_at));
        tr.appendChild(el("td", "", c.waiting_seconds ? Math.floor(c.waiting_seconds / 60) + "分" + (c.waiting_seconds % 60) + "秒" : ""));
        tr.appendChild(el("td", "", c.carer_types.join("・")));
        var tdc = el("td"); if (c.crisis) { tdc.appendChild(el("span", "crisis", "危険")); } tr.appendChild(tdc);
        tr.appendChild(el("td", "", c.sections.join("、")));
        tr.appendChild(el("td", "", c.held_by));
        body.appendChild(tr);
      });
      var crises = d.crises || d.conversations.filter(function (c) { return c.crisis; }).map(function (c) { return c.key; });
      if (seen !== null && crises.some(function (k) { return seen.indexOf(k) < 0; })) {
        alertEl.hidden = false;
        beep();
      }
      seen = crises;
    };
    follow(function () { return "/staff/live/stream"; }, function () { return "/staff/live.json"; }, render,
           document.getElementById("live-mode"));
  }

  // ---- one live conversation ----------------------------------------------------------------
  var turns = document.getElementById("turns");
  if (turns) {
    var key = turns.dataset.key, csrf = turns.dataset.csrf;
    var after = parseInt(turns.dataset.after || "0", 10);
    var mine = !document.getElementById("send-form").hidden;
    var errorEl = document.getElementById("live-error");
    var show = function (d) {
      (d.turns || []).forEach(function (t) {
        if (t.id <= after) { return; }  // already shown: each turn once, in order
        after = t.id;
        var div = el("div", "turn " + t.who);
        div.appendChild(el("span", "meta", t.label + " ・ " + t.at));
        div.appendChild(document.createTextNode(t.text));
        turns.appendChild(div);
        turns.scrollTop = turns.scrollHeight;
      });
      if (d.held_by !== undefined) {
        document.getElementById("held-by").textContent = d.held_by ? "対応中：" + d.held_by : "いまはチャットボットがお返事しています。";
        setMine(!!d.mine);
      }
    };
    var setMine = function (m) {
      mine = m;
      document.getElementById("send-form").hidden = !m;
      document.getElementById("leave-form").hidden = !m;
      document.getElementById("join-form").hidden = m;
    };
    follow(function () { return "/staff/live/c/" + key + "/stream?after=" + after; },
           function () { return "/staff/live/c/" + key + "/turns.json?after=" + after; }, show, null);

    var randomId = function () {
      var a = new Uint8Array(12); window.crypto.getRandomValues(a);
      return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    };
    var post = function (form, after_ok) {
      errorEl.hidden = true;
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                           headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().catch(function () { return { ok: false, error: "送れませんでした。" }; }); })
        .then(function (d) {
          if (d.ok) { after_ok(); } else { errorEl.textContent = d.error || "送れませんでした。"; errorEl.hidden = false; }
        })
        .catch(function () { errorEl.textContent = "送れませんでした。もう一度「送る」を押してください（二重には届きません）。"; errorEl.hidden = false; });
    };
    var sendForm = document.getElementById("send-form");
    sendForm.client_id.value = randomId();
    sendForm.addEventListener("submit", function (e) {
      e.preventDefault();
      post(sendForm, function () { sendForm.text.value = ""; sendForm.client_id.value = randomId(); });
    });
    document.getElementById("join-form").addEventListener("submit", function (e) {
      e.preventDefault(); post(e.target, function () { setMine(true); });
    });
    document.getElementById("leave-form").addEventListener("submit", function (e) {
      e.preventDefault(); post(e.target, function () { setMine(false); });
    });
    Array.prototype.forEach.call(document.querySelectorAll("button.phrase"), function (b) {
      b.addEventListener("click", function () { sendForm.text.value = b.dataset.text; sendForm.text.focus(); });
    });
    setInterval(function () {
      if (!mine) { return; }
      var body = new FormData(); body.append("csrf_token", csrf);
      fetch("/staff/live/c/" + key + "/heartbeat", { method: "POST", body: body, credentials: "same-origin" })
        .catch(function () { /* the next beat tries again */ });
    }, 15000);
  }
}());
