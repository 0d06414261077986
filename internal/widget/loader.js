/* Switchboard chat widget loader. It draws the launcher and an iframe that
 * holds the chat, and offers window.Switchboard (alias window.Kommunicate)
 * to the host page. The chat itself runs in the iframe, on the widget's own
 * origin, so the host page's styles and scripts never touch it. */
(function () {
  "use strict";
  var w = window, d = document;
  if (w.Switchboard && w.Switchboard.__sb) return;
  var script = d.currentScript || d.querySelector('script[src*="/widget.js"]');
  var origin = new URL(script.src, location.href).origin;
  var settings = {};
  var own = function (o) { for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) settings[k] = o[k]; };
  own(w.kommunicateSettings || {});
  own(w.switchboardSettings || {});
  if (!settings.appId && script.getAttribute("data-app-id")) settings.appId = script.getAttribute("data-app-id");

  var frame, launcher, badge, ready = false, isOpen = false, outbox = [], calls = {}, seq = 0, subs = [];
  var color = "#2457d6", side = "right";

  function css(el, s) { for (var k in s) el.style[k] = s[k]; }
  function post(msg) {
    msg.sb = 1;
    if (ready) frame.contentWindow.postMessage(msg, origin); else outbox.push(msg);
  }
  /* Only plain data crosses to the iframe: functions (onInit, callbacks)
   * stay on this side. */
  function plain(o) {
    var out = {};
    for (var k in o) if (typeof o[k] !== "function") out[k] = o[k];
    return JSON.parse(JSON.stringify(out));
  }
  function call(method, args, cb) {
    var id = ++seq;
    if (typeof cb === "function") calls[id] = cb;
    post({ type: "call", id: id, method: method, args: args === undefined ? null : plain({ v: args }).v });
  }
  function emit(name, data) {
    for (var i = 0; i < subs.length; i++) {
      var f = subs[i][name];
      if (typeof f === "function") { try { f(data); } catch (e) { setTimeout(function () { throw e; }); } }
    }
  }
  function mobile() { return w.matchMedia && w.matchMedia("(max-width: 480px)").matches; }
  function layout() {
    var m = mobile();
    css(frame, m ? { top: "0", bottom: "0", left: "0", right: "0", width: "100%", height: "100%", maxHeight: "none", borderRadius: "0" }
      : { top: "auto", bottom: "92px", left: side === "left" ? "20px" : "auto", right: side === "left" ? "auto" : "20px", width: "380px", height: "min(640px, calc(100% - 112px))", borderRadius: "14px" });
    css(launcher, { left: side === "left" ? "20px" : "auto", right: side === "left" ? "auto" : "20px", background: color, display: isOpen && m ? "none" : "flex" });
  }
  function setOpen(open, fromFrame) {
    if (open === isOpen) return;
    isOpen = open;
    frame.style.display = open ? "block" : "none";
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    launcher.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    icon();
    layout();
    if (!fromFrame) post({ type: open ? "open" : "close" });
    if (open) frame.focus(); else if (fromFrame) launcher.focus();
    emit(open ? "onChatWidgetOpen" : "onChatWidgetClose");
  }
  function icon() {
    launcher.firstChild.innerHTML = isOpen
      ? '<svg width="24" height="24" viewBox="0 0 24 24" aria-hidden="true"><path fill="#fff" d="M18.3 5.7a1 1 0 0 0-1.4 0L12 10.6 7.1 5.7a1 1 0 1 0-1.4 1.4l4.9 4.9-4.9 4.9a1 1 0 1 0 1.4 1.4l4.9-4.9 4.9 4.9a1 1 0 0 0 1.4-1.4L13.4 12l4.9-4.9a1 1 0 0 0 0-1.4z"/></svg>'
      : '<svg width="28" height="28" viewBox="0 0 24 24" aria-hidden="true"><path fill="#fff" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
  }

  function build() {
    launcher = d.createElement("button");
    launcher.type = "button";
    launcher.id = "switchboard-launcher";
    launcher.setAttribute("aria-haspopup", "dialog");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open chat");
    launcher.appendChild(d.createElement("span"));
    css(launcher, { position: "fixed", bottom: "20px", width: "60px", height: "60px", borderRadius: "50%", border: "0", padding: "0",
      cursor: "pointer", zIndex: "2147483000", boxShadow: "0 4px 16px rgba(0,0,0,.25)", alignItems: "center", justifyContent: "center" });
    badge = d.createElement("span");
    badge.id = "switchboard-unread";
    badge.setAttribute("aria-live", "polite");
    css(badge, { position: "absolute", top: "-4px", right: "-4px", minWidth: "20px", height: "20px", borderRadius: "10px", background: "#d93025",
      color: "#fff", font: "bold 12px/20px sans-serif", textAlign: "center", padding: "0 5px", boxSizing: "border-box", display: "none" });
    launcher.appendChild(badge);
    launcher.onclick = function () { setOpen(!isOpen); };

    frame = d.createElement("iframe");
    frame.id = "switchboard-frame";
    frame.title = "Chat";
    frame.setAttribute("allow", "geolocation; clipboard-write");
    frame.src = origin + "/widget/frame?appId=" + encodeURIComponent(settings.appId || "");
    css(frame, { position: "fixed", border: "0", zIndex: "2147483001", display: "none", background: "#fff",
      boxShadow: "0 8px 40px rgba(0,0,0,.25)", colorScheme: "normal" });
    icon();
    d.body.appendChild(frame);
    d.body.appendChild(launcher);
    layout();
    if (w.addEventListener) w.addEventListener("resize", layout);
    mark("switchboard-launcher");
  }
  function mark(name) { if (w.performance && performance.mark) performance.mark(name); }

  w.addEventListener("message", function (e) {
    if (!frame || e.source !== frame.contentWindow || e.origin !== origin) return;
    var m = e.data;
    if (!m || m.sb !== 1) return;
    switch (m.type) {
      case "hello":
        frame.contentWindow.postMessage({ sb: 1, type: "init", settings: plain(settings) }, origin);
        break;
      case "ready":
        ready = true;
        if (m.theme) { color = m.theme.themeColor || color; side = m.theme.position || side; layout(); }
        while (outbox.length) post(outbox.shift());
        mark("switchboard-ready");
        if (typeof settings.onInit === "function") { try { settings.onInit(); } catch (err) { setTimeout(function () { throw err; }); } }
        break;
      case "result":
        if (calls[m.id]) { var cb = calls[m.id]; delete calls[m.id]; cb(m.value, m.error); }
        break;
      case "open": setOpen(true, true); break;
      case "close": setOpen(false, true); break;
      case "unread":
        badge.textContent = m.count > 99 ? "99+" : String(m.count);
        badge.style.display = m.count > 0 ? "block" : "none";
        launcher.setAttribute("aria-description", m.count > 0 ? m.count + " unread" : "");
        break;
      case "event": emit(m.name, m.data); break;
    }
  });

  var api = {
    __sb: true,
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    launchConversation: function () { setOpen(true); call("launchConversation"); },
    openConversationList: function () { setOpen(true); call("openConversationList"); },
    openConversation: function (id) { setOpen(true); call("openConversation", id); },
    startConversation: function (params, cb) {
      if (typeof params === "function") { cb = params; params = {}; }
      setOpen(true);
      call("startConversation", params || {}, cb);
    },
    updateChatContext: function (obj, cb) { call("updateChatContext", obj, cb); },
    updateUserLanguage: function (tag, cb) { call("updateUserLanguage", tag, cb); },
    updateUser: function (obj, cb) { call("updateUser", obj, cb); },
    updateSettings: function (obj, cb) { own(obj || {}); call("updateSettings", obj, cb); },
    logout: function (cb) { call("logout", null, cb); },
    subscribeToEvents: function (handlers) { if (handlers) subs.push(handlers); },
    displayKommunicateWidget: function (show) { launcher.style.display = show ? "flex" : "none"; if (!show) setOpen(false); }
  };
  w.Switchboard = api;
  w.Kommunicate = api;
  if (d.body) build(); else d.addEventListener("DOMContentLoaded", build);
})();
