// parley: signing in the browser, and the pages that write.
//
// A person's signing key is made here with WebCrypto (Ed25519), as a
// non-extractable key kept in IndexedDB: the private half cannot be read
// out of the browser, not even by this script. Only the public half is
// sent, registered under the account as a signed-note verifier key.
//
// An entry is built from the add form, encoded as canonical JSON
// (RFC 8785) exactly as package entry canonicalises it, signed over those
// bytes, and posted as {"entry":…,"sig":…}. internal/web/write_test.go
// repeats these steps in Go, and runs this file under Node when it can,
// to prove the server verifies what this file signs.
//
// The pure parts are in P, which Node's require() gets; the rest runs only
// in a page.
(function () {
  "use strict";

  var P = {};

  // ---- Canonical JSON (RFC 8785) ----------------------------------------
  //
  // The values parley builds are objects, arrays, strings, numbers and
  // booleans. For those, RFC 8785 is: object members sorted by their
  // names' UTF-16 code units (JavaScript's default sort order), no
  // whitespace, strings as JSON.stringify writes them (it escapes exactly
  // what RFC 8785 escapes), numbers as JavaScript writes them (RFC 8785
  // takes ECMAScript's Number.prototype.toString: 48.398, 7, 1e-7), minus
  // zero as 0.
  P.canonical = function canonical(v) {
    if (v === null) return "null";
    switch (typeof v) {
      case "string":
        return JSON.stringify(P.wellFormed(v));
      case "boolean":
        return v ? "true" : "false";
      case "number":
        if (!Number.isFinite(v)) throw new Error("JSON has no number " + v);
        return String(v === 0 ? 0 : v);
      case "object":
        if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
        return "{" + Object.keys(v).filter(function (k) { return v[k] !== undefined; }).sort().map(function (k) {
          return JSON.stringify(P.wellFormed(k)) + ":" + canonical(v[k]);
        }).join(",") + "}";
    }
    throw new Error("cannot canonicalise a " + typeof v);
  };

  // wellFormed replaces lone surrogates, which UTF-8 cannot hold, with
  // U+FFFD, so that the bytes signed are the bytes the server reads.
  P.wellFormed = function (s) {
    if (typeof s.toWellFormed === "function") return s.toWellFormed();
    return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/g, function (m) {
      return m.length === 2 ? m[0] + "\uFFFD" : "\uFFFD";
    });
  };

  // ---- Bytes ------------------------------------------------------------
  P.utf8 = function (s) { return new TextEncoder().encode(s); };

  P.base64 = function (bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s);
  };

  P.hex = function (bytes) {
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  };

  // ---- Keys -------------------------------------------------------------
  //
  // A signed-note verifier key is "name+hash+base64(0x01 || pub)", where
  // 0x01 says Ed25519 and hash is the first 4 bytes of
  // SHA-256(name + "\n" + 0x01 + pub), as 8 lower-case hex digits. An
  // entry's author is "name+hash".
  P.verifierKey = async function (name, pub) {
    var key = new Uint8Array(33);
    key[0] = 1;
    key.set(pub, 1);
    var head = P.utf8(name + "\n");
    var msg = new Uint8Array(head.length + key.length);
    msg.set(head);
    msg.set(key, head.length);
    var sum = new Uint8Array(await crypto.subtle.digest("SHA-256", msg));
    var id = name + "+" + P.hex(sum.subarray(0, 4));
    return { id: id, vkey: id + "+" + P.base64(key) };
  };

  // makeKey makes a non-extractable Ed25519 key pair and its verifier key,
  // named NAME-browser.
  P.makeKey = async function (account) {
    var pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    var pub = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    var vk = await P.verifierKey(account + "-browser", pub);
    return { account: account, id: vk.id, vkey: vk.vkey, pair: pair };
  };

  // sign signs the UTF-8 bytes of text: a plain Ed25519 signature (what
  // note.Signer.Sign returns and package entry stores), 64 bytes, in
  // standard base64 with padding.
  P.sign = async function (privateKey, text) {
    var sig = await crypto.subtle.sign({ name: "Ed25519" }, privateKey, P.utf8(text));
    return P.base64(new Uint8Array(sig));
  };

  // wire is the body of POST /api/v1/entries: the canonical entry as it
  // was signed, and its signature.
  P.wire = function (canonicalEntry, sig) {
    return '{"entry":' + canonicalEntry + ',"sig":' + JSON.stringify(sig) + "}";
  };

  // ---- Times ------------------------------------------------------------

  // rfc3339 writes a time in UTC to the second, as Go writes a time
  // without fractional seconds: 2025-03-14T12:00:00Z.
  P.rfc3339 = function (d) {
    return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");
  };

  // fromLocalInput reads a datetime-local value (taken as UTC) as RFC 3339.
  P.fromLocalInput = function (v) {
    var m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?(\.\d+)?$/.exec(v);
    if (!m) return null;
    var s = m[1] + "T" + m[2] + (m[3] || ":00") + "Z";
    return isNaN(Date.parse(s)) ? null : s;
  };

  // ---- Building an entry from a form -------------------------------------
  //
  // spec is the form's #form-spec (FormSpec in pages_write.go); values maps
  // each element id to its value: a string, or for a multiple select the
  // values picked, in the order listed.

  function lines(s) {
    return String(s || "").split("\n").map(function (x) { return x.trim(); }).filter(function (x) { return x !== ""; });
  }

  // sources reads one source a line: a URL or a citation, then optionally
  // "|" and the words quoted from it.
  P.sources = function (text) {
    return lines(text).map(function (line) {
      var at = line.indexOf("|");
      var where = (at < 0 ? line : line.slice(0, at)).trim();
      var quote = at < 0 ? "" : line.slice(at + 1).trim();
      var s = /^https?:\/\//i.test(where) ? { url: where } : { citation: where };
      if (quote !== "") s.quote = quote;
      return s;
    });
  };

  var wholeNumber = /^\d+$/;
  var decimalNumber = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$/;
  var sha256 = /^[0-9a-f]{64}$/;

  // evidence reads one file a line: its SHA-256 (in lower or upper case),
  // then optionally its name, as sha256sum writes them. It returns the
  // items, or the error of the first line that is not one.
  P.evidence = function (text, label) {
    var v = lines(text), out = [];
    for (var i = 0; i < v.length; i++) {
      var m = /^(\S+)(?:\s+\*?(.*))?$/.exec(v[i]);
      var hash = m[1].toLowerCase();
      if (!sha256.test(hash)) {
        return { error: label + ", line " + (i + 1) + ": " + JSON.stringify(m[1]) + " is not a SHA-256 hash (64 hexadecimal digits)" };
      }
      var item = { sha256: hash };
      if (m[2] && m[2].trim() !== "") item.name = m[2].trim();
      out.push(item);
    }
    return { items: out };
  };

  // field reads one field into out[f.name], or records its error.
  function field(f, values, out, errors) {
    var raw = values[f.id];
    var v;
    switch (f.input) {
      case "entities":
      case "choices":
        v = (Array.isArray(raw) ? raw : raw ? [raw] : []).filter(function (x) { return x !== ""; });
        if (v.length) out[f.name] = v;
        break;
      case "chain":
        v = (f.chain || []).map(function (id) { return String(values[id] || "").trim(); }).filter(function (x) { return x !== ""; });
        if (v.length) out[f.name] = v;
        break;
      case "lines":
        v = lines(raw);
        if (v.length) out[f.name] = v;
        break;
      case "int":
        v = String(raw || "").trim();
        if (v === "") break;
        if (!wholeNumber.test(v)) { errors[f.id] = "give an entry number, such as 12"; return; }
        out[f.name] = parseInt(v, 10);
        break;
      case "number":
        v = String(raw || "").trim();
        if (v === "") break;
        if (!wholeNumber.test(v)) { errors[f.id] = f.label + ": " + JSON.stringify(v) + " is not a whole number (0, 1, 2…)"; return; }
        if (!Number.isSafeInteger(Number(v))) { errors[f.id] = f.label + ": " + v + " is too large"; return; }
        out[f.name] = Number(v);
        break;
      case "decimal":
        v = String(raw || "").trim();
        if (v === "") break;
        if (!decimalNumber.test(v)) { errors[f.id] = f.label + ": " + JSON.stringify(v) + " is not a decimal number (such as -12.5: digits, with a point, not a comma)"; return; }
        out[f.name] = Number(v);
        break;
      case "evidence":
        v = P.evidence(raw, f.label);
        if (v.error) { errors[f.id] = v.error; return; }
        if (v.items.length) out[f.name] = v.items;
        break;
      case "ints":
        v = lines(raw);
        for (var i = 0; i < v.length; i++) {
          if (!wholeNumber.test(v[i])) { errors[f.id] = "line " + (i + 1) + " is not an entry number: " + v[i]; return; }
        }
        if (v.length) out[f.name] = v.map(function (x) { return parseInt(x, 10); });
        break;
      case "group":
        var part = {}, perr = {};
        (f.parts || []).forEach(function (p) { field(p, values, part, perr); });
        if (Object.keys(part).length === 0 && Object.keys(perr).length === 0) {
          if (f.required) errors[f.id] = "required";
          return;
        }
        Object.keys(perr).forEach(function (k) { errors[k] = perr[k]; });
        out[f.name] = [part];
        return;
      case "datetime":
        v = String(raw || "").trim();
        if (v === "") break;
        var t = P.fromLocalInput(v);
        if (!t) { errors[f.id] = "give a date and time, such as 2025-03-14T12:00"; return; }
        out[f.name] = t;
        break;
      case "sources":
        v = P.sources(raw);
        if (v.length) out[f.name] = v;
        break;
      default: // text, suggest, textarea, select, entity, id
        v = String(raw || "").trim();
        if (v !== "") out[f.name] = v;
    }
    if (f.required && !(f.name in out)) errors[f.id] = "required";
  }

  // build makes the entry: {type, body, time, recorded, author, sources?,
  // corrects?}, with the members of package entry's Entry (sources and
  // corrects are left out when empty, as its omitempty does), or the
  // errors by element id.
  P.build = function (spec, values, author, now) {
    var body = {}, top = {}, errors = {};
    spec.body.forEach(function (f) { field(f, values, body, errors); });
    spec.entry.forEach(function (f) { field(f, values, top, errors); });
    if (Object.keys(errors).length) return { errors: errors };
    var e = { type: spec.type, body: body, time: top.time, recorded: P.rfc3339(now), author: author };
    if (top.sources) e.sources = top.sources;
    if (top.corrects !== undefined) e.corrects = top.corrects;
    return { entry: e, canonical: P.canonical(e) };
  };

  // fieldOf finds the form field a refusal is about: the server names it
  // in "where" ("entry: body/party", "entry: body/incidents/0/evidence/0/sha256")
  // or quotes it in the detail ('"stance" is required', '"titles/0/title"
  // is required', '"incidents/0/lat" is 91, out of range'). A group's
  // part is GROUP-PART.
  P.fieldOf = function (problem, ids) {
    var has = function (id) { return ids.indexOf(id) >= 0; };
    var where = String(problem.where || "");
    var m = /(?:^|[\s:])body\/([a-z_]+)(?:\/\d+\/([a-z_]+))?/.exec(where);
    if (m && m[2] && has(m[1] + "-" + m[2])) return m[1] + "-" + m[2];
    if (m && has(m[1])) return m[1];
    var re = /"([a-z_]+)(?:\/\d+(?:\/([a-z_]+))?)?"/g;
    var detail = String(problem.detail || "");
    while ((m = re.exec(detail)) !== null) {
      if (m[2] && has(m[1] + "-" + m[2])) return m[1] + "-" + m[2];
      if (has(m[1])) return m[1];
      if (has(m[1] + "-0")) return m[1];
    }
    return null;
  };

  // detailOf is a problem's detail without the place it names first.
  P.detailOf = function (problem) {
    var d = String(problem.detail || problem.title || "refused");
    var w = problem.where ? problem.where + ": " : "";
    return w && d.indexOf(w) === 0 ? d.slice(w.length) : d;
  };

  if (typeof module === "object" && module.exports) module.exports = P;
  if (typeof document === "undefined") return;

  // ---- In the page ------------------------------------------------------

  var csrf = document.body.dataset.csrf || "";

  // api calls the API with the session cookie and the CSRF token; it
  // resolves to {ok, status, data}, data being the JSON answer or the
  // problem detail.
  function api(method, path, body) {
    var init = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (method !== "GET") init.headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      return r.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = { detail: r.status + " " + r.statusText }; }
        return { ok: r.ok, status: r.status, data: data || {} };
      });
    }, function (err) {
      return { ok: false, status: 0, data: { detail: "the server could not be reached: " + err.message } };
    });
  }

  function byId(id) { return document.getElementById(id); }

  function jsonOf(id, fallback) {
    var el = byId(id);
    if (!el) return fallback;
    try { return JSON.parse(el.textContent); } catch (e) { return fallback; }
  }

  function say(out, text, ok) {
    if (!out) return;
    out.textContent = text;
    out.classList.toggle("ok", ok === true);
    out.classList.toggle("bad", ok === false);
  }

  // Field errors: <p class="field-error" id="ID-error"> beside the field,
  // named by the field's aria-describedby.
  function setError(id, message) {
    var p = byId(id + "-error");
    var el = byId(id);
    if (p) { p.textContent = message || ""; p.hidden = !message; }
    if (el) {
      if (message) el.setAttribute("aria-invalid", "true"); else el.removeAttribute("aria-invalid");
    }
  }

  function clearErrors(root) {
    root.querySelectorAll(".field-error").forEach(function (p) { p.textContent = ""; p.hidden = true; });
    root.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  // ---- The key store (IndexedDB) ----------------------------------------

  var DB = "parley-keys", STORE = "keys";

  function openDB() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("this browser has no IndexedDB")); return; }
      var rq = indexedDB.open(DB, 1);
      rq.onupgradeneeded = function () { rq.result.createObjectStore(STORE, { keyPath: "account" }); };
      rq.onsuccess = function () { resolve(rq.result); };
      rq.onerror = function () { reject(rq.error); };
    });
  }

  function keyStore(mode, fn) {
    return openDB().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var rq = fn(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(rq && rq.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
        tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  // The browser's key for an account: {account, id, vkey, pair}.
  function loadKey(account) { return keyStore("readonly", function (s) { return s.get(account); }); }
  function saveKey(rec) { return keyStore("readwrite", function (s) { return s.put(rec); }); }
  function dropKey(account) { return keyStore("readwrite", function (s) { return s.delete(account); }); }

  // usableKey is the browser's key for account if the record has it
  // registered and unrevoked (active lists those ids), else null.
  function usableKey(account, active) {
    return loadKey(account).then(function (rec) {
      return rec && active.indexOf(rec.id) >= 0 ? rec : null;
    }, function () { return null; });
  }

  // ---- Revoking keys (account and admin pages) ---------------------------

  function revokeButtons(out, onRevoked) {
    document.querySelectorAll("button.revoke-key").forEach(function (b) {
      b.addEventListener("click", function () {
        var id = b.dataset.keyId;
        b.disabled = true;
        api("DELETE", "/api/v1/keys/" + encodeURIComponent(id)).then(function (r) {
          if (!r.ok) { b.disabled = false; say(out, "Key " + id + " was not revoked: " + P.detailOf(r.data), false); return; }
          var row = b.closest("tr");
          var state = row && row.querySelector(".key-state");
          if (state) state.textContent = "revoked at #" + r.data.revoked;
          b.remove();
          say(out, "Key " + id + " is revoked from entry " + r.data.revoked + " on: it signs nothing after.", true);
          if (onRevoked) onRevoked(id);
        });
      });
    });
  }

  // ---- The account page ---------------------------------------------------

  function accountPage() {
    var section = byId("key-section");
    var make = byId("make-key");
    if (!section || !make) return;
    var account = section.dataset.account;
    var active = jsonOf("account-keys", []);
    var status = byId("key-status");
    var prompt = byId("key-prompt");

    function mark(id) {
      document.querySelectorAll("#key-list tr[data-key-id]").forEach(function (tr) {
        var flag = tr.querySelector(".this-browser");
        if (flag) flag.hidden = tr.dataset.keyId !== id;
      });
    }

    function show(rec, held) {
      if (rec) {
        status.dataset.keyId = rec.id;
        say(status, "This browser holds the key " + rec.id + ", registered under " + account + ": what you add here is signed with it.", true);
        prompt.hidden = true;
        make.textContent = "Make a new key in this browser";
        mark(rec.id);
        return;
      }
      delete status.dataset.keyId;
      say(status, held ? "The key this browser holds (" + held.id + ") is revoked or not registered: make a new one." :
        "This browser holds no signing key for " + account + ".", held ? false : undefined);
      prompt.hidden = false;
      make.textContent = "Make a signing key in this browser";
      mark("");
    }

    if (!window.crypto || !crypto.subtle || !window.indexedDB) {
      make.disabled = true;
      say(status, "This browser cannot make signing keys (it needs WebCrypto and IndexedDB, on https or localhost).", false);
      return;
    }
    loadKey(account).then(function (rec) {
      show(rec && active.indexOf(rec.id) >= 0 ? rec : null, rec && active.indexOf(rec.id) < 0 ? rec : null);
    }, function () { show(null, null); });

    make.addEventListener("click", function () {
      make.disabled = true;
      say(status, "Making a key…");
      var rec;
      P.makeKey(account).then(function (r) {
        rec = r;
        return saveKey(rec);
      }).then(function () {
        return api("POST", "/api/v1/account/keys", { key: rec.vkey });
      }).then(function (r) {
        make.disabled = false;
        if (!r.ok) {
          return dropKey(account).then(function () {
            say(status, "The key was not registered: " + P.detailOf(r.data), false);
          });
        }
        active.push(r.data.id);
        addKeyRow(r.data);
        show(rec, null);
      }).catch(function (err) {
        make.disabled = false;
        var why = err && err.name === "NotSupportedError" ? "this browser does not support Ed25519 keys in WebCrypto (Chrome 137+, Firefox 129+, Safari 17+ do)" : String(err && err.message || err);
        say(status, "No key was made: " + why, false);
      });
    });

    revokeButtons(status, function (id) {
      active = active.filter(function (x) { return x !== id; });
      if (status.dataset.keyId === id) {
        loadKey(account).then(function (rec) { show(null, rec); });
      }
    });
  }

  function addKeyRow(k) {
    var table = byId("key-list");
    if (!table) return;
    var tr = document.createElement("tr");
    tr.dataset.keyId = k.id;
    var td1 = document.createElement("td");
    var code = document.createElement("code");
    code.textContent = k.id;
    var flag = document.createElement("strong");
    flag.className = "this-browser";
    flag.textContent = "this browser";
    td1.append(code, " ", flag);
    var td2 = document.createElement("td");
    var a = document.createElement("a");
    a.href = "/entries/" + k.registered;
    a.textContent = "#" + k.registered;
    td2.append(a);
    var td3 = document.createElement("td");
    td3.className = "key-state";
    td3.textContent = "active";
    tr.append(td1, td2, td3, document.createElement("td"));
    table.tBodies[0].append(tr);
    table.hidden = false;
    var none = byId("no-keys");
    if (none) none.hidden = true;
  }

  // ---- API tokens -------------------------------------------------------

  function tokens() {
    var form = byId("token-form");
    if (!form) return;
    var out = byId("token-secret");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearErrors(form);
      var label = byId("token-label").value.trim();
      if (!label) { setError("token-label", "required: say what the token is for"); return; }
      api("POST", "/api/v1/account/tokens", { label: label }).then(function (r) {
        if (!r.ok) { setError("token-label", P.detailOf(r.data)); return; }
        out.textContent = "";
        out.classList.add("ok");
        var code = document.createElement("code");
        code.className = "secret";
        code.id = "token-value";
        code.textContent = r.data.secret;
        out.append("Token " + r.data.id + " (" + r.data.label + "): ", code, " — copy it now: it is not shown again.");
        byId("token-label").value = "";
        var table = byId("token-list");
        var tr = document.createElement("tr");
        tr.dataset.tokenId = r.data.id;
        [r.data.label, r.data.id, "now"].forEach(function (t) { var td = document.createElement("td"); td.textContent = t; tr.append(td); });
        tr.append(document.createElement("td"));
        table.tBodies[0].append(tr);
        table.hidden = false;
        var none = byId("no-tokens");
        if (none) none.hidden = true;
      });
    });
    document.querySelectorAll("button.revoke-token").forEach(function (b) {
      b.addEventListener("click", function () {
        b.disabled = true;
        api("DELETE", "/api/v1/account/tokens/" + encodeURIComponent(b.dataset.tokenId)).then(function (r) {
          if (!r.ok) { b.disabled = false; say(out, "Not revoked: " + P.detailOf(r.data), false); return; }
          b.closest("tr").remove();
          say(out, "Token " + b.dataset.tokenId + " is revoked.", true);
        });
      });
    });
  }

  // ---- The admin page -----------------------------------------------------

  function adminPage() {
    var form = byId("new-account");
    if (!form) return;
    var out = byId("admin-result");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearErrors(form);
      var body = {
        name: byId("new-account-name").value.trim(),
        password: byId("new-account-password").value,
        role: byId("new-account-role").value
      };
      var party = byId("new-account-party").value;
      if (party) body.party = party;
      var missing = false;
      ["name", "password"].forEach(function (k) {
        if (!body[k]) { setError("new-account-" + k, "required"); missing = true; }
      });
      if (missing) return;
      api("POST", "/api/v1/accounts", body).then(function (r) {
        if (!r.ok) {
          var f = ["name", "password", "role", "party"].indexOf(r.data.where) >= 0 ? r.data.where : "name";
          setError("new-account-" + f, P.detailOf(r.data));
          say(out, "The account was not created.", false);
          return;
        }
        say(out, "Account " + r.data.name + " (" + r.data.role + ") is created; reload to change it here.", true);
        form.reset();
      });
    });
    document.querySelectorAll("button.save-account").forEach(function (b) {
      b.addEventListener("click", function () {
        var name = b.dataset.account;
        var change = {
          role: byId("role-" + name).value,
          party: byId("party-" + name).value,
          disabled: byId("disabled-" + name).checked
        };
        api("PATCH", "/api/v1/accounts/" + encodeURIComponent(name), change).then(function (r) {
          if (!r.ok) { say(out, name + " was not changed: " + P.detailOf(r.data), false); return; }
          b.closest("tr").classList.toggle("disabled", !!r.data.disabled);
          say(out, name + " is now " + r.data.role + (r.data.party ? " for " + r.data.party : "") + (r.data.disabled ? ", disabled" : "") + ".", true);
        });
      });
    });
    revokeButtons(out);
  }

  // ---- The add form -------------------------------------------------------

  function addForm() {
    var form = byId("add-form");
    if (!form) return;
    var spec = jsonOf("form-spec", null);
    if (!spec) return;
    var account = form.dataset.account;
    var active = jsonOf("account-keys", []);
    var preview = byId("preview-json");
    var result = byId("add-result");
    var submit = byId("sign-submit");
    var key = null;
    var built = null; // the entry previewed, until the form changes

    var ids = [];
    (function collect(fs) {
      fs.forEach(function (f) {
        ids.push(f.id);
        (f.chain || []).forEach(function (c) { ids.push(c); });
        collect(f.parts || []);
      });
    })(spec.body.concat(spec.entry));

    function values() {
      var v = {};
      ids.forEach(function (id) {
        var el = byId(id);
        if (!el || !("value" in el)) return;
        v[id] = el.multiple ? Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; }) : el.value;
      });
      return v;
    }

    var ready = ((window.crypto && crypto.subtle) ? usableKey(account, active) : Promise.resolve(null)).then(function (rec) {
      key = rec;
      if (rec) {
        var p = byId("signing-key");
        p.textContent = "Signing as " + rec.id + ", the key this browser holds.";
        p.dataset.keyId = rec.id;
        p.hidden = false;
      } else {
        byId("no-key").hidden = false;
        submit.disabled = true;
      }
    });

    form.addEventListener("input", function () { built = null; });
    form.addEventListener("change", function () { built = null; });
    form.addEventListener("submit", function (ev) { ev.preventDefault(); });

    function doPreview() {
      clearErrors(form);
      var author = key ? key.id : account + "-browser+00000000";
      var b = P.build(spec, values(), author, new Date());
      if (b.errors) {
        var first = null;
        Object.keys(b.errors).forEach(function (id) {
          setError(id, b.errors[id]);
          first = first || id;
        });
        preview.textContent = "";
        delete result.dataset.index;
        say(result, "The entry is not complete: see the fields marked.", false);
        var el = byId(first);
        if (el && el.focus) el.focus();
        built = null;
        return null;
      }
      preview.textContent = b.canonical;
      say(result, key ? "" : "This browser has no signing key: the entry cannot be signed here.", key ? undefined : false);
      delete result.dataset.index;
      built = b;
      return b;
    }

    byId("preview").addEventListener("click", doPreview);

    submit.addEventListener("click", function () {
      ready.then(signAndAdd);
    });

    function signAndAdd() {
      if (!key) { byId("no-key").hidden = false; return; }
      var b = built || doPreview();
      if (!b) return;
      submit.disabled = true;
      say(result, "Signing…");
      P.sign(key.pair.privateKey, b.canonical).then(function (sig) {
        return api("POST", "/api/v1/entries", P.wire(b.canonical, sig));
      }).then(function (r) {
        submit.disabled = false;
        if (r.ok) {
          var a = r.data.appended[0];
          result.dataset.index = a.index;
          result.textContent = "";
          result.classList.remove("bad");
          result.classList.add("ok");
          var link = document.createElement("a");
          link.href = "/entries/" + a.index;
          link.textContent = "entry #" + a.index;
          result.append(a.duplicate ? "Already on the record as " : "Added as ", link, ".");
          built = null;
          return;
        }
        delete result.dataset.index;
        var id = P.fieldOf(r.data, ids);
        var detail = P.detailOf(r.data);
        if (id) {
          setError(id, detail);
          say(result, "Not added: see the field marked.", false);
          var el = byId(id);
          if (el && el.focus) el.focus();
        } else {
          say(result, "Not added: " + detail, false);
        }
      }).catch(function (err) {
        submit.disabled = false;
        say(result, "Not signed: " + (err && err.message || err), false);
      });
    }
  }

  accountPage();
  tokens();
  adminPage();
  addForm();
})();
