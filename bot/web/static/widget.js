/*
 * 鎌倉市 ケアラー相談チャット: the widget for any page.
 *
 *   <script src="http://HOST:8000/widget.js" data-exit-url="https://www.city.kamakura.kanagawa.jp/" defer></script>
 *
 * Options (data-* on the script tag):
 *   data-server        where /chat/send lives (default: the origin of this script)
 *   data-exit-url      the neutral page that 「会話を消して閉じる」 leaves for (default: SERVER/neutral)
 *   data-offline-after seconds without the bot before the widget says so and shows the crisis lines (default 20)
 *
 * Its styles are SERVER/widget.css, a file: no inline style, so that it works under a strict
 * Content-Security-Policy (style-src 'self' on our /demo).
 *
 * Privacy on a shared device: history lives in sessionStorage (this tab only), no cookies.
 * Never lose a message: each message has an id; unsent ones stay, marked 未送信, and are
 * retried until the server answers; the server relays each id to the bot exactly once.
 */
(function () {
  "use strict";
  if (window.__kcChatLoaded) { return; }
  window.__kcChatLoaded = true;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var SERVER = (script && script.getAttribute("data-server")) || (script ? new URL(script.src, location.href).origin : "");
  var EXIT_URL = (script && script.getAttribute("data-exit-url")) || SERVER + "/neutral";
  var OFFLINE_AFTER = 1000 * Number((script && script.getAttribute("data-offline-after")) || 20);
  var KEY = "kc-chat-v1";
  var RETRY_MS = 3000;

  var WELCOME = "こんにちは。鎌倉市の「ケアラー相談チャット」です。家族のお世話や介護のことを、なんでも話してください。" +
    "\n画面の「会話を消して閉じる」を押すと、この会話はこの端末から消えて、別のページに移ります。";

  function randomId() {
    var a = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // ---- state (sessionStorage only) ---------------------------------------------
  function load() {
    try { return JSON.parse(sessionStorage.getItem(KEY)) || null; } catch (e) { return null; }
  }
  var state = load() || { sender: "w" + randomId(), open: false, large: false, items: [], lines: null };
  function save() {
    try { sessionStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode: keep in memory */ }
  }
  if (!state.items.length) { state.items.push({ who: "bot", text: WELCOME, id: "welcome" }); save(); }

  // ---- DOM ----------------------------------------------------------------------
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  // ---- styles -------------------------------------------------------------------
  // A stylesheet from the server, not a <style> element: a page whose Content-Security-Policy
  // allows no inline style (our /demo, maybe the city's) would block that. The widget stays
  // hidden until its styles are there; should they fail, it shows plain but working.
  var sheet = el("link", { rel: "stylesheet", href: SERVER + "/widget.css" });
  var root = el("div", { "class": "kc-root", lang: "ja", hidden: "" });
  function reveal() { root.hidden = false; }
  sheet.addEventListener("load", reveal);
  sheet.addEventListener("error", reveal);
  document.head.appendChild(sheet);

  var launch = el("button", { "class": "kc-launch", type: "button", "aria-haspopup": "dialog" }, "ケアラー相談チャット");
  var panel = el("section", { "class": "kc-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "kc-title" });
  var head = el("div", { "class": "kc-head" });
  head.appendChild(el("h2", { id: "kc-title" }, "ケアラー相談チャット"));
  var largeBtn = el("button", { "class": "kc-tool", type: "button", "aria-pressed": "false" }, "文字を大きく");
  var closeBtn = el("button", { "class": "kc-tool", type: "button" }, "閉じる");
  var exitBtn = el("button", { "class": "kc-exit", type: "button" }, "会話を消して閉じる");
  head.appendChild(largeBtn); head.appendChild(closeBtn); head.appendChild(exitBtn);
  var log = el("div", { "class": "kc-log", role: "log", "aria-live": "polite", "aria-label": "会話", tabindex: "0" });
  var typing = el("div", { "class": "kc-typing", "aria-live": "polite" });
  var notice = el("div", { "class": "kc-notice", role: "status", hidden: "" });
  var form = el("form", { "class": "kc-form" });
  var label = el("label", { "for": "kc-input", "class": "kc-sr" }, "メッセージ（Enterで送信、Shift+Enterで改行）");
  var input = el("textarea", { id: "kc-input", rows: "2", placeholder: "ここに書いてください", autocomplete: "off", maxlength: "5000" });
  var sendBtn = el("button", { "class": "kc-send", type: "submit" }, "送る");
  form.appendChild(label); form.appendChild(input); form.appendChild(sendBtn);
  panel.appendChild(head); panel.appendChild(log); panel.appendChild(typing); panel.appendChild(notice); panel.appendChild(form);
  root.appendChild(launch); root.appendChild(panel);

  // ---- rendering ----------------------------------------------------------------
  var URL_RE = /(https?:\/\/[^\s<>"'）)」]+)/g;
  function appendText(node, text) {
    // Text only (never innerHTML); links open in a new tab without access to this page.
    var last = 0;
    text.replace(URL_RE, function (url, _g, offset) {
      node.appendChild(document.createTextNode(text.slice(last, offset)));
      var a = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url);
      node.appendChild(a);
      last = offset + url.length;
      return url;
    });
    node.appendChild(document.createTextNode(text.slice(last)));
  }

  function render() {
    log.textContent = "";
    state.items.forEach(function (item, i) {
      var cls = { bot: "kc-bot", user: "kc-user", staff: "kc-staff", notice: "kc-live-notice" }[item.who] || "kc-bot";
      var m = el("div", { "class": "kc-msg " + cls + (item.pending ? " kc-pending" : "") });
      if (item.who === "staff") {
        m.appendChild(el("span", { "class": "kc-from" }, (item.section || "市") + "の職員"));
      } else {
        m.appendChild(el("span", { "class": "kc-sr" }, { bot: "チャットボット：", user: "あなた：", notice: "お知らせ：" }[item.who] || ""));
      }
      appendText(m, item.text || "");
      if (item.pending) { m.appendChild(el("span", { "class": "kc-status" }, "未送信（つながったら自動で送ります）")); }
      log.appendChild(m);
      var isLast = i === state.items.length - 1;
      if (item.who === "bot" && item.buttons && item.buttons.length && isLast) {
        var box = el("div", { "class": "kc-replies", role: "group", "aria-label": "返事の候補" });
        item.buttons.forEach(function (b) {
          var btn = el("button", { type: "button" }, b.title);
          btn.addEventListener("click", function () { submit(b.title, b.payload); });
          box.appendChild(btn);
        });
        log.appendChild(box);
      }
    });
    log.scrollTop = log.scrollHeight;
    root.classList.toggle("kc-open", !!state.open);
    root.classList.toggle("kc-large", !!state.large);
    largeBtn.setAttribute("aria-pressed", state.large ? "true" : "false");
    launch.setAttribute("aria-expanded", state.open ? "true" : "false");
  }

  // ---- sending, exactly once ----------------------------------------------------
  var sending = false;
  var firstFailureAt = null;
  function pending() { return state.items.filter(function (i) { return i.pending; }); }

  function showOffline(show) {
    if (!show) { notice.hidden = true; return; }
    var text = "いま、チャットにつながりにくくなっています。書いたメッセージは消えずに残り、つながったら送ります。";
    if (state.lines && state.lines.length) {
      text += "\nいますぐ話したいとき、危ないときは、こちらに電話してください。\n" +
        state.lines.map(function (l) { return "・" + l.name + "：" + l.phone + "（" + l.hours + "）"; }).join("\n");
    }
    notice.textContent = text;
    notice.hidden = false;
  }

  // ---- no cold turn (issue 18): after a restart the server says "ready" only once its models are
  // warm; until then the widget says so, keeps what was written, and sends it once ready ----------
  var ready = null;  // unknown until /ready answers
  var checking = false;
  var pollTimer = null;
  var WARM_TEXT = "いま、チャットの準備をしています。少しだけお待ちください。書いたメッセージは、準備ができたらすぐに送ります。";
  function checkReady() {
    if (checking) { return; }
    checking = true;
    fetch(SERVER + "/ready", { credentials: "omit", cache: "no-store" }).then(function (r) {
      checking = false;
      ready = r.status === 200;
      if (ready) {
        if (!pending().length) { firstFailureAt = null; notice.hidden = true; }
        flush();
      } else {
        // Still starting, or Rasa is down: a person who has written waits at most OFFLINE_AFTER before
        // the widget says it cannot answer now and shows the crisis lines.
        if (pending().length) { firstFailureAt = firstFailureAt || Date.now(); }
        if (firstFailureAt && Date.now() - firstFailureAt >= OFFLINE_AFTER) {
          showOffline(true);
        } else if (notice.hidden) {
          notice.textContent = WARM_TEXT;
          notice.hidden = false;
        }
        if (!pollTimer) { pollTimer = setTimeout(function () { pollTimer = null; checkReady(); }, RETRY_MS); }
      }
    }).catch(function () {
      checking = false;
      ready = null;  // the server itself is gone: the sending below says so after OFFLINE_AFTER
      flush();
    });
  }

  function flush() {
    if (sending) { return; }
    if (ready === false) { checkReady(); return; }
    var next = pending()[0];
    if (!next) { typing.textContent = ""; return; }
    sending = true;
    typing.textContent = state.staff ? "" : "チャットボットが入力中…";
    fetch(SERVER + "/chat/send", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender, id: next.id, text: next.payload || next.text }),
      credentials: "omit"
    }).then(function (r) {
      if (r.status === 400) { return r.json().then(function (b) { return { rejected: b.error || "送れませんでした。" }; }); }
      if (!r.ok) { throw new Error("status " + r.status); }
      return r.json();
    }).then(function (body) {
      sending = false;
      firstFailureAt = null;
      showOffline(false);
      next.pending = false;
      if (body.rejected) {
        state.items.push({ who: "bot", text: body.rejected, id: randomId() });
      } else {
        (body.messages || []).forEach(function (m) {
          state.items.push({ who: "bot", text: m.text || "", buttons: m.buttons || [], id: randomId() });
        });
      }
      save(); render();
      watch();
      flush();
    }).catch(function () {
      sending = false;
      typing.textContent = "";
      firstFailureAt = firstFailureAt || Date.now();
      if (Date.now() - firstFailureAt >= OFFLINE_AFTER) { showOffline(true); }
      setTimeout(flush, RETRY_MS);
    });
  }

  // ---- staff who join (issue 15): their messages and notices, each once, in order -------------
  // The server gives every message after the last id this tab has (kept in sessionStorage), so a
  // dropped connection, a reload or a restart of the server loses nothing and shows nothing twice.
  var watching = false;
  function watch() {
    if (watching || !state.items.some(function (i) { return i.who === "user" && !i.pending; })) { return; }
    watching = true;
    var wait = state.liveAfter ? "" : "&wait=0";
    fetch(SERVER + "/chat/updates?sender=" + encodeURIComponent(state.sender) + "&after=" + (state.liveAfter || 0) + wait,
          { credentials: "omit" })
      .then(function (r) { if (!r.ok) { throw new Error("status " + r.status); } return r.json(); })
      .then(function (body) {
        watching = false;
        (body.messages || []).forEach(function (m) {
          if (m.id <= (state.liveAfter || 0)) { return; }
          state.items.push({ who: m.who, text: m.text, section: m.section, id: "live-" + m.id });
        });
        state.liveAfter = Math.max(state.liveAfter || 0, body.last || 0);
        state.staff = body.staff || "";
        typing.textContent = state.staff ? "" : typing.textContent;
        save(); render();
        watch();
      })
      .catch(function () { watching = false; setTimeout(watch, RETRY_MS); });
  }

  function submit(text, payload) {
    text = (text || "").replace(/\s+$/, "");
    if (!text.trim()) { return; }
    state.items.push({ who: "user", text: text, payload: payload || null, id: randomId(), pending: true });
    save(); render();
    flush();
  }

  // ---- events -------------------------------------------------------------------
  var composing = false;
  input.addEventListener("compositionstart", function () { composing = true; });
  input.addEventListener("compositionend", function () { composing = false; });
  input.addEventListener("keydown", function (e) {
    if (e.key !== "Enter") { return; }
    // Enter that confirms a kana-kanji conversion must never send (keyCode 229 in some browsers).
    if (e.isComposing || composing || e.keyCode === 229) { return; }
    if (e.shiftKey) { return; }  // Shift+Enter: a new line
    e.preventDefault();
    form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    input.value = "";
    submit(text);
    input.focus();
  });
  launch.addEventListener("click", function () { state.open = true; save(); render(); input.focus(); });
  closeBtn.addEventListener("click", function () { state.open = false; save(); render(); launch.focus(); });
  largeBtn.addEventListener("click", function () { state.large = !state.large; save(); render(); });
  exitBtn.addEventListener("click", function () {
    try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing stored */ }
    state = { sender: "w" + randomId(), open: false, large: false, items: [], lines: null };
    log.textContent = "";
    location.replace(EXIT_URL);  // replace: the back button does not return to the chat
  });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { state.open = false; save(); render(); launch.focus(); }
  });
  window.addEventListener("online", flush);

  // The crisis lines are fetched now, so that they can be shown when the server is gone.
  if (!state.lines) {
    fetch(SERVER + "/chat/crisis-lines", { credentials: "omit" }).then(function (r) { return r.json(); })
      .then(function (b) { state.lines = b.lines; save(); }).catch(function () { /* shown without numbers */ });
  }

  function mount() {
    document.body.appendChild(root);
    render();
    checkReady();
    watch();
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
