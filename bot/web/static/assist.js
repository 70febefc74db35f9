/* Agent-assist page. Everything from the API is rendered with DOM nodes and textContent,
   never as HTML, so customer text cannot inject markup or scripts. */
(function () {
  "use strict";

  var TOKEN_KEY = "mailhilfe.assistToken";
  var ENTITY_LABELS = {
    client: "Mailprogramm",
    protocol: "Protokoll",
    encryption: "Verschlüsselung",
    error_code: "Fehlercode"
  };
  var VALUE_LABELS = {
    outlook: "Outlook", thunderbird: "Thunderbird", apple_mail: "Apple Mail",
    windows_mail: "Windows Mail", other: "anderes Programm", webagent: "Webagent",
    imap: "IMAP", pop3: "POP3", smtp: "SMTP",
    ssl_tls: "SSL/TLS", starttls: "STARTTLS", none: "ohne Verschlüsselung"
  };
  var SOURCE_LABELS = {
    nlu: "Sprachverständnis (Rasa)",
    bounce: "Fehlermeldungs-Analyse",
    kb: "Wissensdatenbank (Rasa nicht erreichbar)",
    none: "keine Analyse"
  };
  var PHASE_LABELS = {
    connect: "Verbindungsaufbau", helo: "Begrüßung (HELO)", mail_from: "Absender (MAIL FROM)",
    rcpt_to: "Empfänger (RCPT TO)", data: "Nachrichtenübertragung (DATA)", unknown: "unbekannt"
  };
  var SLOT_LABELS = {
    client: "Mailprogramm", protocol: "Protokoll", encryption: "Verschlüsselung",
    error_code: "Fehlercode", topic: "Thema", walkthrough: "Anleitung", step: "Schritt",
    failed_attempts: "Fehlversuche", bounce_category: "Bounce-Kategorie",
    handover_summary: "Übergabe-Zusammenfassung", steps_tried: "Bereits versucht"
  };

  var state = { slots: {} };

  function $(id) { return document.getElementById(id); }

  /* Creates an element; children may be nodes or strings (added as text nodes). */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    var key;
    attrs = attrs || {};
    for (key in attrs) {
      if (!Object.prototype.hasOwnProperty.call(attrs, key)) { continue; }
      if (key === "className") { node.className = attrs[key]; }
      else if (key === "text") { node.textContent = attrs[key]; }
      else if (key === "hidden") { node.hidden = !!attrs[key]; }
      else { node.setAttribute(key, attrs[key]); }
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) { continue; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  function percent(value) {
    var number = Number(value) || 0;
    return Math.round(number * 100) + " %";
  }

  function valueLabel(value) {
    return Object.prototype.hasOwnProperty.call(VALUE_LABELS, value) ? VALUE_LABELS[value] : String(value);
  }

  /* -- token ---------------------------------------------------------------------- */
  function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

  function showLogin(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    $("app").hidden = true;
    $("logout").hidden = true;
    $("login").hidden = false;
    var error = $("login-error");
    error.textContent = message || "";
    error.hidden = !message;
    $("token").focus();
  }

  function showApp() {
    $("login").hidden = true;
    $("app").hidden = false;
    $("logout").hidden = false;
    $("customer-text").focus();
  }

  function Unauthorised() { this.name = "Unauthorised"; }

  function api(method, path, body) {
    var options = {
      method: method,
      headers: { "Authorization": "Bearer " + token(), "Accept": "application/json" },
      credentials: "same-origin",
      cache: "no-store"
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      if (response.status === 401) { throw new Unauthorised(); }
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data && data.error ? data.error : "Fehler " + response.status);
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function handleError(error, statusNode) {
    if (error instanceof Unauthorised) {
      showLogin("Der Zugangsschlüssel ist ungültig oder abgelaufen. Bitte melden Sie sich neu an.");
      return;
    }
    statusNode.className = "status error";
    statusNode.textContent = error && error.message ? error.message :
      "Die Anfrage ist fehlgeschlagen. Bitte versuchen Sie es noch einmal.";
  }

  function login(event) {
    event.preventDefault();
    var value = $("token").value.trim();
    if (!value) { return; }
    sessionStorage.setItem(TOKEN_KEY, value);
    $("login-button").disabled = true;
    api("POST", "/api/assist", { text: "" }).then(function () {
      $("token").value = "";
      showApp();
    }).catch(function (error) {
      if (error instanceof Unauthorised) {
        showLogin("Der Zugangsschlüssel stimmt nicht.");
      } else {
        showLogin("Anmeldung nicht möglich: " + (error.message || "unbekannter Fehler"));
      }
    }).then(function () { $("login-button").disabled = false; });
  }

  /* -- analysis --------------------------------------------------------------------- */
  function analyse(event) {
    event.preventDefault();
    var text = $("customer-text").value;
    if (!text.trim()) {
      $("status").className = "status error";
      $("status").textContent = "Bitte fügen Sie zuerst einen Text ein.";
      return;
    }
    var button = $("analyse-button");
    button.disabled = true;
    $("status").className = "status";
    $("status").textContent = "Wird analysiert …";
    var started = Date.now();
    api("POST", "/api/assist", { text: text }).then(function (data) {
      render(data);
      $("status").className = "status ok";
      $("status").textContent = "Fertig (" + (Date.now() - started) + " ms).";
      if (data.passwords_masked) {
        /* keep no password on screen: the input shows the masked text from now on */
        $("customer-text").value = data.masked_text;
        $("status").textContent += " Kennwörter im Eingabefeld wurden unkenntlich gemacht.";
      }
    }).catch(function (error) {
      handleError(error, $("status"));
    }).then(function () { button.disabled = false; });
  }

  function render(data) {
    state.slots = data.slots || {};
    renderWarnings(data);
    renderUnderstanding(data);
    renderBounce(data.bounce);
    renderArticles($("articles"), data.articles || [], state.slots);
    renderReply(data);
    renderQuestions(data.questions || []);
    $("masked-text").textContent = data.masked_text || "";
    $("results").hidden = false;
  }

  function renderWarnings(data) {
    var list = $("warnings");
    clear(list);
    (data.warnings || []).forEach(function (text) { list.appendChild(el("li", { text: text })); });
    $("warnings-card").hidden = !list.firstChild;
  }

  function intentLine(intent, low) {
    var line = el("span", {},
      el("span", { className: "name", text: intent.label || intent.name }),
      " ",
      el("code", { text: intent.name }),
      " ",
      el("span", { className: "confidence", text: "(" + percent(intent.confidence) + ")" }));
    if (low) {
      line.appendChild(el("span", { className: "badge low", text: "unsicher" }));
    }
    return line;
  }

  function renderUnderstanding(data) {
    var intent = $("intent");
    clear(intent);
    intent.appendChild(intentLine(data.intent || { name: "?" }, data.low_confidence));
    intent.appendChild(el("span", { className: "badge", text: "Quelle: " + (SOURCE_LABELS[data.intent_source] || data.intent_source || "") }));

    var ranking = $("ranking");
    clear(ranking);
    (data.intent_ranking || []).slice(0, 5).forEach(function (item) {
      var meter = el("meter", { min: "0", max: "1", value: String(Number(item.confidence) || 0) });
      ranking.appendChild(el("li", {}, meter, (item.label || item.name) + " ",
        el("code", { text: item.name }), " ", el("span", { className: "muted", text: percent(item.confidence) })));
    });
    if (!ranking.firstChild) {
      ranking.appendChild(el("li", { className: "muted", text: "Keine Angaben vom Sprachverständnis." }));
    }
    renderEntities($("entities"), data.entities || []);
  }

  function renderEntities(list, entities) {
    clear(list);
    entities.forEach(function (entity) {
      var label = ENTITY_LABELS[entity.entity] || entity.entity;
      var text = label + ": " + valueLabel(entity.value);
      var shown = valueLabel(entity.value).toLowerCase();
      if (entity.text && entity.text.toLowerCase() !== shown && entity.text !== entity.value) {
        text += " („" + entity.text + "“)";
      }
      list.appendChild(el("li", { text: text }));
    });
    if (!list.firstChild) {
      list.appendChild(el("li", { className: "muted", text: "Keine erkannt" }));
    }
  }

  function fact(list, label, value) {
    if (value === null || value === undefined || value === "" ||
        (Array.isArray(value) && !value.length)) { return; }
    var dd = el("dd");
    if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = String(value); }
    list.appendChild(el("dt", { text: label }));
    list.appendChild(dd);
  }

  function renderBounce(bounce) {
    var card = $("bounce-card");
    var list = $("bounce");
    clear(list);
    if (!bounce) { card.hidden = true; return; }
    fact(list, "Kategorie", (bounce.title || bounce.category) + " (" + bounce.category + ")");
    fact(list, "Sicherheit", percent(bounce.confidence));
    var codes = [bounce.smtp_code, bounce.enhanced_code].filter(Boolean).join(" / ");
    fact(list, "Codes", codes);
    fact(list, "Empfänger", (bounce.recipients || []).join(", "));
    fact(list, "Gegenstelle", bounce.remote_host);
    if (bounce.phase && bounce.phase !== "unknown") { fact(list, "Phase", PHASE_LABELS[bounce.phase] || bounce.phase); }
    fact(list, "Beleg", bounce.evidence);
    fact(list, "Ursache", bounce.explanation);
    if (bounce.fix && bounce.fix.length) {
      var steps = el("ol");
      bounce.fix.forEach(function (step) { steps.appendChild(el("li", { text: step })); });
      fact(list, "Lösung", steps);
    }
    card.hidden = false;
  }

  /* -- articles ------------------------------------------------------------------------ */
  function renderArticles(list, articles, slots) {
    clear(list);
    articles.forEach(function (article) {
      var body = el("div", { className: "article-body", hidden: true });
      var button = el("button", { type: "button", className: "secondary", "aria-expanded": "false",
        text: "Öffnen" });
      button.addEventListener("click", function () { toggleArticle(article.id, button, body, slots); });
      list.appendChild(el("li", { "data-article": article.id },
        el("div", { className: "article-head" },
          el("strong", { text: article.title }),
          el("code", { text: article.id }),
          el("span", { className: "muted", text: "Relevanz " + percent(article.score) }),
          button),
        body));
    });
    if (!list.firstChild) {
      list.appendChild(el("li", { className: "muted", text: "Kein passender Artikel gefunden." }));
    }
  }

  function toggleArticle(id, button, body, slots) {
    if (button.getAttribute("aria-expanded") === "true") {
      button.setAttribute("aria-expanded", "false");
      button.textContent = "Öffnen";
      body.hidden = true;
      return;
    }
    var params = [];
    if (slots.client) { params.push("client=" + encodeURIComponent(slots.client)); }
    if (slots.protocol) { params.push("protocol=" + encodeURIComponent(slots.protocol)); }
    var path = "/api/assist/article/" + encodeURIComponent(id) + (params.length ? "?" + params.join("&") : "");
    button.disabled = true;
    api("GET", path).then(function (view) {
      clear(body);
      renderArticleView(body, view);
      body.hidden = false;
      button.setAttribute("aria-expanded", "true");
      button.textContent = "Schließen";
    }).catch(function (error) {
      clear(body);
      var status = el("p", { className: "error" });
      body.appendChild(status);
      body.hidden = false;
      handleError(error, status);
    }).then(function () { button.disabled = false; });
  }

  function stepList(steps) {
    var list = el("ol");
    steps.forEach(function (step) { list.appendChild(el("li", { text: step })); });
    return list;
  }

  function bulletList(items) {
    var list = el("ul");
    items.forEach(function (item) { list.appendChild(el("li", { text: item })); });
    return list;
  }

  function settingsTable(settings) {
    var table = el("table", { className: "settings" },
      el("caption", { className: "visually-hidden", text: "Servereinstellungen" }),
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: "Server" }), el("th", { scope: "col", text: "Port" }),
        el("th", { scope: "col", text: "Verschlüsselung" }), el("th", { scope: "col", text: "Empfehlung" }))));
    var tbody = el("tbody");
    settings.forEach(function (server) {
      (server.options || []).forEach(function (option) {
        tbody.appendChild(el("tr", {},
          el("td", { text: server.host + " (" + valueLabel(server.protocol) + ")" }),
          el("td", { text: String(option.port) }),
          el("td", { text: valueLabel(option.encryption) }),
          el("td", { text: option.recommended ? "empfohlen" : "nicht empfohlen" })));
      });
    });
    table.appendChild(tbody);
    return table;
  }

  function renderArticleView(body, view) {
    if (view.summary) { body.appendChild(el("p", { text: view.summary })); }
    if (view.explanation) { body.appendChild(el("p", { text: view.explanation })); }
    (view.sections || []).forEach(function (section) {
      if (section.title) { body.appendChild(el("h4", { text: section.title })); }
      body.appendChild(stepList(section.steps || []));
    });
    if (view.points && view.points.length) { body.appendChild(bulletList(view.points)); }
    if (view.pitfalls && view.pitfalls.length) {
      body.appendChild(el("h4", { text: "Wichtig" }));
      body.appendChild(bulletList(view.pitfalls));
    }
    if (view.do_not && view.do_not.length) {
      body.appendChild(el("h4", { text: "Bitte nicht" }));
      body.appendChild(bulletList(view.do_not));
    }
    if (view.settings && view.settings.length) {
      body.appendChild(el("h4", { text: "Servereinstellungen" }));
      body.appendChild(settingsTable(view.settings));
    }
    if (view.related_guide) {
      var guide = view.related_guide;
      body.appendChild(el("h4", { text: "Passende Anleitung: " + guide.title }));
      (guide.sections || []).forEach(function (section) {
        if (section.title) { body.appendChild(el("p", {}, el("strong", { text: section.title }))); }
        body.appendChild(stepList(section.steps || []));
      });
      if (guide.pitfalls && guide.pitfalls.length) { body.appendChild(bulletList(guide.pitfalls)); }
    }
    if (view.source) { body.appendChild(el("p", { className: "muted", text: "Quelle: " + view.source })); }
  }

  /* -- reply ----------------------------------------------------------------------------- */
  function renderReply(data) {
    $("reply").value = data.reply || "";
    $("copy-status").textContent = "";
    var gaps = $("gaps");
    if (data.reply_gaps && data.reply_gaps.length) {
      gaps.textContent = "Noch auszufüllen: " + data.reply_gaps.join(", ");
      gaps.hidden = false;
    } else {
      gaps.hidden = true;
    }
  }

  function copyReply() {
    var area = $("reply");
    var status = $("copy-status");
    function done() { status.className = "status ok"; status.textContent = "Antwort in die Zwischenablage kopiert."; }
    function fallback() {
      area.focus();
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      if (ok) { done(); } else {
        status.className = "status error";
        status.textContent = "Kopieren nicht möglich – bitte markieren und mit Strg+C kopieren.";
      }
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(area.value).then(done, fallback);
    } else {
      fallback();
    }
  }

  /* -- questions --------------------------------------------------------------------------- */
  function renderQuestions(questions) {
    var container = $("questions");
    clear(container);
    if (questions.length < 2) { $("questions-card").hidden = true; return; }
    questions.forEach(function (question, index) {
      var entities = el("ul", { className: "chips" });
      renderEntities(entities, question.entities || []);
      var slots = {};
      Object.keys(state.slots).forEach(function (key) { slots[key] = state.slots[key]; });
      (question.entities || []).forEach(function (entity) {
        if (!(entity.entity in slots) || entity.entity === "client" || entity.entity === "protocol") {
          slots[entity.entity] = entity.value;
        }
      });
      var articles = el("ol", { className: "articles" });
      renderArticles(articles, question.articles || [], slots);
      container.appendChild(el("div", { className: "question", "data-question": String(index + 1) },
        el("h3", { text: "Frage " + (index + 1) }),
        el("blockquote", { text: question.text }),
        el("p", {}, intentLine(question.intent || { name: "?" }, question.low_confidence)),
        entities,
        el("h4", { text: "Artikel" }),
        articles));
    });
    $("questions-card").hidden = false;
  }

  /* -- conversation -------------------------------------------------------------------------- */
  function lookUpConversation(event) {
    event.preventDefault();
    var id = $("conversation-id").value.trim();
    var status = $("conversation-status");
    var box = $("conversation");
    if (!id) { return; }
    status.className = "status";
    status.textContent = "Wird geladen …";
    api("GET", "/api/assist/conversation/" + encodeURIComponent(id)).then(function (data) {
      status.textContent = "";
      clear(box);
      renderConversation(box, data);
      box.hidden = false;
    }).catch(function (error) {
      box.hidden = true;
      handleError(error, status);
    });
  }

  var HANDOVER_FIELDS = [
    ["topic", "Thema"], ["client", "Mailprogramm"], ["protocol", "Protokoll"],
    ["error_code", "Fehlercode"], ["bounce_category", "Bounce-Kategorie"], ["walkthrough", "Anleitung"]
  ];

  function slotValue(value) {
    if (Array.isArray(value)) { return value.map(slotValue).join(", "); }
    if (value !== null && typeof value === "object") { return JSON.stringify(value, null, 2); }
    return valueLabel(value);
  }

  function renderHandover(box, summary) {
    box.appendChild(el("h3", { text: "Übergabe-Zusammenfassung" }));
    if (typeof summary !== "object" || summary === null || Array.isArray(summary)) {
      box.appendChild(el("p", { className: "handover", text: slotValue(summary) }));
      return;
    }
    if (summary.text) { box.appendChild(el("p", { className: "handover", text: String(summary.text) })); }
    var facts = el("dl", { className: "facts" });
    HANDOVER_FIELDS.forEach(function (field) { fact(facts, field[1], summary[field[0]] ? slotValue(summary[field[0]]) : ""); });
    if (summary.steps_tried && summary.steps_tried.length) {
      fact(facts, "Bereits versucht", bulletList(summary.steps_tried.map(String)));
    }
    if (facts.firstChild) { box.appendChild(facts); }
  }

  function renderConversation(box, data) {
    if (data.handover_summary) { renderHandover(box, data.handover_summary); }
    box.appendChild(el("h3", { text: "Bekannte Angaben" }));
    var slots = el("dl", { className: "facts" });
    Object.keys(data.slots || {}).forEach(function (name) {
      if (name === "handover_summary") { return; }
      fact(slots, SLOT_LABELS[name] || name, slotValue(data.slots[name]));
    });
    if (!slots.firstChild) { slots.appendChild(el("dd", { className: "muted", text: "Keine" })); }
    box.appendChild(slots);
    box.appendChild(el("h3", { text: "Verlauf (" + (data.transcript || []).length + " Nachrichten)" }));
    var list = el("ol", { className: "transcript", role: "log" });
    (data.transcript || []).forEach(function (turn) {
      var who = turn.sender === "user" ? "Kunde" : "Bot";
      if (turn.intent && turn.intent.name) { who += " · " + turn.intent.name + " (" + percent(turn.intent.confidence) + ")"; }
      var item = el("li", { className: turn.sender === "user" ? "user" : "bot" },
        el("span", { className: "who", text: who }), turn.text || "");
      if (turn.buttons && turn.buttons.length) {
        item.appendChild(el("span", { className: "who", text: "Knöpfe: " + turn.buttons.join(" | ") }));
      }
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  /* -- start -------------------------------------------------------------------------------- */
  function start() {
    $("login-form").addEventListener("submit", login);
    $("analyse-form").addEventListener("submit", analyse);
    $("conversation-form").addEventListener("submit", lookUpConversation);
    $("copy-button").addEventListener("click", copyReply);
    $("logout").addEventListener("click", function () { showLogin(""); });
    $("clear-button").addEventListener("click", function () {
      $("customer-text").value = "";
      $("results").hidden = true;
      $("status").textContent = "";
      $("customer-text").focus();
    });
    $("customer-text").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { analyse(event); }
    });
    if (token()) { showApp(); } else { showLogin(""); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
