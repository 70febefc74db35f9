/*
 * Mailhilfe chat widget. Embed with one tag:
 *   <script src="https://<web app>/static/widget.js" defer></script>
 * Vanilla JavaScript, no dependencies. Texts come from GET /api/widget/config
 * (data/web/messages.yml). Bot and customer text is only ever put into the page as
 * text nodes; the small Markdown subset (bold, lists, line breaks, inline code, fenced
 * settings blocks, links to the provider's own domains) is built from DOM nodes.
 */
(function () {
  "use strict";

  if (window.__mailhilfeWidgetLoaded) { return; }
  window.__mailhilfeWidgetLoaded = true;

  var script = document.currentScript ||
    document.querySelector("script[src*='/static/widget.js']");
  var BASE = new URL(script ? script.src : "/static/widget.js", window.location.href).origin;
  var STORE_KEY = "mailhilfe:v1:" + BASE;
  var MAX_HISTORY = 200;
  var CLIENT_TIMEOUT_MS = 15000;
  // Only used when the configuration itself cannot be loaded.
  var FALLBACK_TEXTS = {
    launcher: "Chat starten", title: "Mailhilfe", subtitle: "",
    close: "Chat schließen", new_conversation: "Neues Gespräch", new_conversation_label: "Neues Gespräch",
    log_label: "Nachrichtenverlauf", input_label: "Ihre Nachricht", input_placeholder: "",
    send: "Senden", typing: "…", you: "Sie", bot: "Mailhilfe", quick_replies_label: "Antwortvorschläge",
    copy: "Kopieren", copy_label: "{value} kopieren", copied: "Kopiert",
    copy_block: "Alle kopieren", copy_block_label: "Alle kopieren", retry: "Erneut versuchen",
    privacy_hint: "", welcome: "", starters: [], new_session_notice: "", no_answer: "",
    too_long_hint: "", error_network: "Die Mailhilfe ist gerade nicht erreichbar.",
    error_timeout: "Die Mailhilfe antwortet gerade nicht.", error_generic: "Fehler.",
    not_sent: "nicht gesendet", link_external: ""
  };

  var T = FALLBACK_TEXTS;
  var limits = { max_message_chars: 4000 };
  var linkHosts = ["dokom21.de", "dokom.net", "dokom.de"];
  var state = { open: false, history: [] };
  var busy = false;
  var pending = null;   // {body, entry} of the last request that failed, for "retry"
  var ui = {};
  var uid = 0;

  // ---------------------------------------------------------------- helpers
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function format(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }

  function nextId(prefix) { uid += 1; return "mh-" + prefix + "-" + uid; }

  function loadState() {
    try {
      var raw = window.sessionStorage.getItem(STORE_KEY);
      if (!raw) { return; }
      var data = JSON.parse(raw);
      if (data && Array.isArray(data.history)) {
        state.history = data.history.filter(function (e) {
          return e && typeof e.text === "string" && /^(user|bot|notice)$/.test(e.role);
        }).slice(-MAX_HISTORY);
        state.open = data.open === true;
      }
    } catch (e) { state.history = []; }
  }

  function saveState() {
    try {
      state.history = state.history.slice(-MAX_HISTORY);
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify(state, function (key, value) {
        return key === "node" ? undefined : value;
      }));
    } catch (e) { /* storage full or blocked: the conversation still works */ }
  }

  // ------------------------------------------------------- safe rendering
  function hostAllowed(host) {
    host = String(host || "").toLowerCase().replace(/\.$/, "");
    return linkHosts.some(function (domain) {
      return host === domain || host.slice(-(domain.length + 1)) === "." + domain;
    });
  }

  function safeHref(raw) {
    var href = String(raw || "").trim();
    if (/^www\./i.test(href)) { href = "https://" + href; }
    if (/^mailto:/i.test(href)) {
      var address = href.slice(7).split("?")[0];
      var at = address.lastIndexOf("@");
      return at > 0 && hostAllowed(address.slice(at + 1)) &&
        /^[\w.+-]+@[\w.-]+$/.test(address) ? "mailto:" + address : null;
    }
    var url;
    try { url = new URL(href); } catch (e) { return null; }
    if (url.protocol !== "https:" && url.protocol !== "http:") { return null; }
    if (url.username || url.password || !hostAllowed(url.hostname)) { return null; }
    return url.href;
  }

  function copyText(value, button, label) {
    function done() {
      button.textContent = T.copied;
      button.classList.add("mh-copied");
      window.setTimeout(function () {
        button.textContent = label;
        button.classList.remove("mh-copied");
      }, 2000);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(value).then(done, function () { fallbackCopy(value); done(); });
    } else {
      fallbackCopy(value);
      done();
    }
  }

  function fallbackCopy(value) {
    var area = el("textarea", "mh-offscreen");
    area.value = value;
    area.setAttribute("readonly", "");
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
  }

  function codeWithCopy(value) {
    var wrap = el("span", "mh-code");
    wrap.appendChild(el("code", null, value));
    var button = el("button", "mh-copy", T.copy);
    button.type = "button";
    button.setAttribute("aria-label", format(T.copy_label, { value: value }));
    button.addEventListener("click", function () { copyText(value, button, T.copy); });
    wrap.appendChild(button);
    return wrap;
  }

  var INLINE = new RegExp(
    "\\*\\*([^*\\n]+?)\\*\\*" +                                   // 1 bold
    "|`([^`\\n]+)`" +                                              // 2 inline code
    "|\\[([^\\]\\n]+)\\]\\(([^)\\s]+)\\)" +                         // 3, 4 link
    "|((?:https?:\\/\\/|www\\.)[^\\s<>\"'()\\[\\]]*[^\\s<>\"'()\\[\\].,;:!?])" + // 5 bare URL
    "|([\\w.+-]+@[\\w-]+(?:\\.[\\w-]+)+)",                          // 6 e-mail address
    "g"
  );

  function renderInline(text, parent, allowBold) {
    var last = 0;
    var match;
    var pattern = new RegExp(INLINE.source, "g");
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) { parent.appendChild(document.createTextNode(text.slice(last, match.index))); }
      var node = null;
      if (match[1] !== undefined) {
        if (allowBold) {
          node = el("strong");
          renderInline(match[1], node, false);
        }
      } else if (match[2] !== undefined) {
        node = codeWithCopy(match[2]);
      } else if (match[3] !== undefined) {
        node = makeLink(match[3], match[4]);
      } else if (match[5] !== undefined) {
        node = makeLink(match[5], match[5]);
      } else if (match[6] !== undefined) {
        node = makeLink(match[6], "mailto:" + match[6]);
      }
      parent.appendChild(node || document.createTextNode(match[0]));
      last = pattern.lastIndex;
    }
    if (last < text.length) { parent.appendChild(document.createTextNode(text.slice(last))); }
  }

  function makeLink(label, href) {
    var safe = safeHref(href);
    if (!safe) { return null; }
    var link = el("a", "mh-link", label);
    link.href = safe;
    if (!/^mailto:/.test(safe)) {
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      if (T.link_external) {
        link.appendChild(el("span", "mh-sr", " " + T.link_external));
      }
    }
    return link;
  }

  function settingsBlock(lines) {
    var value = lines.join("\n");
    var block = el("div", "mh-settings");
    var pre = el("pre");
    pre.appendChild(el("code", null, value));
    block.appendChild(pre);
    block.appendChild(copyAllButton(value));
    return block;
  }

  function plainOf(line) {
    return line.replace(/\*\*([^*\n]+?)\*\*/g, "$1").replace(/`([^`\n]+)`/g, "$1").trim();
  }

  function copyAllButton(value) {
    var button = el("button", "mh-copy mh-copy-block", T.copy_block);
    button.type = "button";
    button.setAttribute("aria-label", T.copy_block_label);
    button.addEventListener("click", function () { copyText(value, button, T.copy_block); });
    return button;
  }

  function renderRich(text, parent) {
    var lines = String(text).replace(/\r\n?/g, "\n").split("\n");
    var para = null;
    var list = null;
    var listType = null;
    var listPlain = [];
    var listCodes = 0;

    function closeList() {
      if (list && listCodes >= 2) { parent.appendChild(copyAllButton(listPlain.join("\n"))); }
      list = null; listType = null; listPlain = []; listCodes = 0;
    }

    for (var i = 0; i < lines.length; i++) {
      var line = lines[i];
      if (/^\s*```/.test(line)) {
        closeList(); para = null;
        var block = [];
        i += 1;
        while (i < lines.length && !/^\s*```/.test(lines[i])) { block.push(lines[i]); i += 1; }
        parent.appendChild(settingsBlock(block));
        continue;
      }
      var bullet = /^\s*[-*•]\s+(.*)$/.exec(line);
      var numbered = /^\s*(\d{1,3})[.)]\s+(.*)$/.exec(line);
      if (bullet || numbered) {
        var type = bullet ? "ul" : "ol";
        if (!list || listType !== type) {
          closeList();
          list = el(type);
          listType = type;
          if (numbered && numbered[1] !== "1") { list.start = parseInt(numbered[1], 10); }
          parent.appendChild(list);
        }
        var content = bullet ? bullet[1] : numbered[2];
        var item = el("li");
        renderInline(content, item, true);
        list.appendChild(item);
        listPlain.push(plainOf(content));
        listCodes += item.querySelectorAll("code").length;
        para = null;
        continue;
      }
      closeList();
      if (line.trim() === "") { para = null; continue; }
      if (!para) { para = el("p"); parent.appendChild(para); } else { para.appendChild(el("br")); }
      renderInline(line, para, true);
    }
    closeList();
  }

  // ------------------------------------------------------------ messages
  function clearQuickReplies() {
    var groups = ui.log.querySelectorAll(".mh-quick");
    for (var i = 0; i < groups.length; i++) { groups[i].parentNode.removeChild(groups[i]); }
    state.history.forEach(function (entry) { entry.buttonsDone = true; });
  }

  function renderEntry(entry, withButtons) {
    var row = el("div", "mh-msg mh-" + entry.role);
    var who = el("span", "mh-sr", (entry.role === "user" ? T.you : T.bot) + ": ");
    if (entry.role !== "notice") { row.appendChild(who); }
    var bubble = el("div", "mh-bubble");
    if (entry.role === "user") {
      bubble.appendChild(el("p", "mh-plain", entry.text));
    } else {
      renderRich(entry.text, bubble);
    }
    row.appendChild(bubble);
    if (entry.failed) {
      row.classList.add("mh-failed");
      row.appendChild(el("span", "mh-failed-label", T.not_sent));
    }
    ui.log.appendChild(row);
    entry.node = row;
    if (withButtons && entry.buttons && entry.buttons.length && !entry.buttonsDone) {
      renderQuickReplies(entry);
    }
    return row;
  }

  function renderQuickReplies(entry) {
    var group = el("div", "mh-quick");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", T.quick_replies_label);
    entry.buttons.forEach(function (button) {
      var b = el("button", "mh-quick-btn", button.title);
      b.type = "button";
      b.addEventListener("click", function () {
        if (busy) { return; }
        var body = button.payload !== undefined ? { payload: button.payload } : { message: button.message || button.title };
        clearQuickReplies();
        send(body, button.title);
        ui.input.focus();
      });
      group.appendChild(b);
    });
    ui.log.appendChild(group);
  }

  function addEntry(entry) {
    state.history.push(entry);
    renderEntry(entry, true);
    saveState();
    scrollDown();
    return entry;
  }

  function scrollDown() { ui.log.scrollTop = ui.log.scrollHeight; }

  function welcome() {
    if (!T.welcome) { return; }
    var starters = (T.starters || []).map(function (title) { return { title: title, message: title }; });
    addEntry({ role: "bot", text: T.welcome, buttons: starters, local: true });
  }

  function renderHistory() {
    ui.log.setAttribute("aria-busy", "true");
    while (ui.log.firstChild) { ui.log.removeChild(ui.log.firstChild); }
    var lastWithButtons = -1;
    state.history.forEach(function (entry, index) {
      if (entry.role === "user") { lastWithButtons = -1; }
      if (entry.role === "bot" && entry.buttons && entry.buttons.length && !entry.buttonsDone) { lastWithButtons = index; }
    });
    state.history.forEach(function (entry, index) { renderEntry(entry, index === lastWithButtons); });
    ui.log.removeAttribute("aria-busy");
    scrollDown();
  }

  // ------------------------------------------------------------- network
  function showTyping(on) {
    ui.typing.hidden = !on;
    ui.send.disabled = on;
    ui.log.setAttribute("aria-busy", on ? "true" : "false");
  }

  function showError(message) {
    ui.errorText.textContent = message;
    ui.error.hidden = false;
  }

  function hideError() { ui.error.hidden = true; ui.errorText.textContent = ""; }

  function markFailed(entry, failed) {
    if (!entry) { return; }
    entry.failed = failed;
    if (entry.node) {
      entry.node.classList.toggle("mh-failed", failed);
      var label = entry.node.querySelector(".mh-failed-label");
      if (failed && !label) { entry.node.appendChild(el("span", "mh-failed-label", T.not_sent)); }
      if (!failed && label) { label.parentNode.removeChild(label); }
    }
    saveState();
  }

  function post(path, body) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = window.setTimeout(function () { if (controller) { controller.abort(); } }, CLIENT_TIMEOUT_MS);
    return fetch(BASE + path, {
      method: "POST",
      credentials: "include",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      window.clearTimeout(timer);
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data || {} };
      });
    }, function (error) {
      window.clearTimeout(timer);
      throw error;
    });
  }

  function send(body, displayText) {
    if (busy) { return; }
    var hadConversation = state.history.some(function (e) { return e.role === "user"; });
    var entry = displayText ? addEntry({ role: "user", text: displayText }) : null;
    request(body, entry, hadConversation);
  }

  function request(body, entry, hadConversation) {
    busy = true;
    pending = null;
    hideError();
    showTyping(true);
    post("/api/chat", body).then(function (result) {
      busy = false;
      showTyping(false);
      if (!result.ok) {
        pending = { body: body, entry: entry, hadConversation: hadConversation };
        markFailed(entry, true);
        showError(typeof result.data.error === "string" ? result.data.error : T.error_generic);
        return;
      }
      markFailed(entry, false);
      var data = result.data;
      if (data.new_session && hadConversation && T.new_session_notice) {
        addEntry({ role: "notice", text: T.new_session_notice });
      }
      if (typeof data.notice === "string" && data.notice) {
        addEntry({ role: "notice", text: data.notice });
      }
      var messages = Array.isArray(data.messages) ? data.messages : [];
      var shown = 0;
      messages.forEach(function (message) {
        if (!message || typeof message !== "object") { return; }
        var buttons = Array.isArray(message.buttons) ? message.buttons.filter(function (b) {
          return b && typeof b.title === "string" && typeof b.payload === "string";
        }).map(function (b) { return { title: b.title, payload: b.payload }; }) : [];
        var text = typeof message.text === "string" ? message.text : "";
        if (!text && !buttons.length) { return; }
        addEntry({ role: "bot", text: text, buttons: buttons });
        shown += 1;
      });
      if (!shown && T.no_answer) { addEntry({ role: "bot", text: T.no_answer }); }
    }, function (error) {
      busy = false;
      showTyping(false);
      pending = { body: body, entry: entry, hadConversation: hadConversation };
      markFailed(entry, true);
      showError(error && error.name === "AbortError" ? T.error_timeout : T.error_network);
    });
  }

  function retry() {
    if (!pending || busy) { return; }
    var again = pending;
    request(again.body, again.entry, again.hadConversation);
    ui.input.focus();
  }

  function newConversation() {
    if (busy) { return; }
    hideError();
    pending = null;
    post("/api/session", {}).then(function (result) {
      if (!result.ok) {
        showError(typeof result.data.error === "string" ? result.data.error : T.error_generic);
        return;
      }
      state.history = [];
      saveState();
      renderHistory();
      welcome();
      ui.input.value = "";
      updateHint();
      ui.input.focus();
    }, function () { showError(T.error_network); });
  }

  // ------------------------------------------------------------------ UI
  function setOpen(open, focus) {
    state.open = open;
    ui.panel.hidden = !open;
    ui.launcher.hidden = open;
    ui.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    ui.root.classList.toggle("mh-is-open", open);
    saveState();
    if (open) {
      if (!state.history.length) { welcome(); }
      scrollDown();
      if (focus) { ui.input.focus(); }
    } else if (focus) {
      ui.launcher.focus();
    }
  }

  function updateHint() {
    var over = ui.input.value.length > limits.max_message_chars;
    ui.hint.textContent = over ? format(T.too_long_hint, { limit: limits.max_message_chars.toLocaleString("de-DE") }) : "";
    ui.hint.hidden = !over;
  }

  function submit() {
    var text = ui.input.value.trim();
    if (!text || busy) { return; }
    ui.input.value = "";
    updateHint();
    clearQuickReplies();
    send({ message: text }, text);
  }

  function build() {
    var panelId = nextId("panel");
    var titleId = nextId("title");
    var inputId = nextId("input");
    var hintId = nextId("hint");

    ui.root = el("div", "mh-root");
    ui.root.setAttribute("lang", "de");

    ui.launcher = el("button", "mh-launcher");
    ui.launcher.type = "button";
    ui.launcher.setAttribute("aria-controls", panelId);
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcher.appendChild(el("span", "mh-launcher-icon"));
    ui.launcher.appendChild(el("span", "mh-launcher-text", T.launcher));
    ui.launcher.addEventListener("click", function () { setOpen(true, true); });

    ui.panel = el("section", "mh-panel");
    ui.panel.id = panelId;
    ui.panel.hidden = true;
    ui.panel.setAttribute("aria-labelledby", titleId);

    var header = el("div", "mh-header");
    var heading = el("div", "mh-heading");
    var title = el("h2", "mh-title", T.title);
    title.id = titleId;
    heading.appendChild(title);
    if (T.subtitle) { heading.appendChild(el("p", "mh-subtitle", T.subtitle)); }
    header.appendChild(heading);
    var actions = el("div", "mh-actions");
    ui.reset = el("button", "mh-reset", T.new_conversation);
    ui.reset.type = "button";
    ui.reset.setAttribute("aria-label", T.new_conversation_label);
    ui.reset.addEventListener("click", newConversation);
    ui.close = el("button", "mh-close");
    ui.close.type = "button";
    ui.close.setAttribute("aria-label", T.close);
    ui.close.appendChild(el("span", "mh-close-icon"));
    ui.close.addEventListener("click", function () { setOpen(false, true); });
    actions.appendChild(ui.reset);
    actions.appendChild(ui.close);
    header.appendChild(actions);

    ui.log = el("div", "mh-log");
    ui.log.setAttribute("role", "log");
    ui.log.setAttribute("aria-live", "polite");
    ui.log.setAttribute("aria-relevant", "additions");
    ui.log.setAttribute("aria-label", T.log_label);
    ui.log.tabIndex = 0;

    ui.typing = el("div", "mh-typing");
    ui.typing.setAttribute("role", "status");
    ui.typing.appendChild(el("span", "mh-dots"));
    ui.typing.appendChild(el("span", "mh-typing-text", T.typing));
    ui.typing.hidden = true;

    ui.error = el("div", "mh-error");
    ui.error.setAttribute("role", "alert");
    ui.errorText = el("p", "mh-error-text");
    ui.retry = el("button", "mh-retry", T.retry);
    ui.retry.type = "button";
    ui.retry.addEventListener("click", retry);
    ui.error.appendChild(ui.errorText);
    ui.error.appendChild(ui.retry);
    ui.error.hidden = true;

    var form = el("form", "mh-form");
    form.setAttribute("novalidate", "");
    var label = el("label", "mh-sr", T.input_label);
    label.htmlFor = inputId;
    ui.input = el("textarea", "mh-input");
    ui.input.id = inputId;
    ui.input.rows = 2;
    ui.input.placeholder = T.input_placeholder;
    ui.input.setAttribute("autocomplete", "off");
    ui.input.setAttribute("aria-describedby", hintId);
    ui.send = el("button", "mh-send", T.send);
    ui.send.type = "submit";
    form.appendChild(label);
    form.appendChild(ui.input);
    form.appendChild(ui.send);
    form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
    ui.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    ui.input.addEventListener("input", updateHint);

    ui.hint = el("p", "mh-hint");
    ui.hint.id = hintId;
    ui.hint.setAttribute("aria-live", "polite");
    ui.hint.hidden = true;
    var privacy = el("p", "mh-privacy", T.privacy_hint);

    ui.panel.appendChild(header);
    ui.panel.appendChild(ui.log);
    ui.panel.appendChild(ui.typing);
    ui.panel.appendChild(ui.error);
    ui.panel.appendChild(form);
    ui.panel.appendChild(ui.hint);
    if (T.privacy_hint) { ui.panel.appendChild(privacy); }
    ui.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { setOpen(false, true); }
    });

    ui.root.appendChild(ui.launcher);
    ui.root.appendChild(ui.panel);
    document.body.appendChild(ui.root);
  }

  function start(config) {
    if (config && config.texts && typeof config.texts === "object") {
      T = Object.assign({}, FALLBACK_TEXTS, config.texts);
    }
    if (config && config.limits && config.limits.max_message_chars > 0) {
      limits.max_message_chars = config.limits.max_message_chars;
    }
    if (config && Array.isArray(config.link_hosts) && config.link_hosts.length) {
      linkHosts = config.link_hosts.map(function (h) { return String(h).toLowerCase(); });
    }
    loadState();
    build();
    renderHistory();
    if (state.open) { setOpen(true, false); }
    window.__mailhilfeWidgetReady = true;
    document.dispatchEvent(new CustomEvent("mailhilfe:ready"));
  }

  function loadStyles() {
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = BASE + "/static/widget.css";
    document.head.appendChild(link);
  }

  function init() {
    loadStyles();
    fetch(BASE + "/api/widget/config", { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .catch(function () { return null; })
      .then(start);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
