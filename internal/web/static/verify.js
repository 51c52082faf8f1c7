// verify.js: check an entry of the record in the browser, with WebCrypto
// only, trusting nothing the server computed. The entry page holds, in a
// JSON data block (#verify-data), the leaf the Merkle tree commits to, the
// inclusion proof's hashes, the operator's signed checkpoint, the author's
// and the operator's verifier keys. From those alone it checks:
//
//  1. the author's Ed25519 signature. parley signs the entry's canonical
//     JSON bytes themselves (entry.Sign calls the signed-note signer on
//     them directly: no note text, no trailing newline); the leaf is
//     {"entry":<those bytes>,"sig":"<base64 of the 64-byte signature>"}.
//  2. the leaf hash: SHA-256(0x00 || leaf), as RFC 6962 hashes a record.
//  3. the inclusion proof: from the leaf hash up to a root, with interior
//     nodes SHA-256(0x01 || left || right) (RFC 9162, 2.1.3.2).
//  4. the checkpoint: a signed note, "origin\nsize\nbase64(root)\n…" then a
//     blank line then "— origin base64(keyhash4 || sig64)"; its size and
//     root must be the tree's, and the operator's Ed25519 signature must
//     verify over the note's text (everything before the blank line,
//     with its final newline).
//
// A signed-note verifier key is "name+hash+base64(0x01 || 32-byte key)",
// where hash is the first 4 bytes of SHA-256(name || "\n" || 0x01 || key).
"use strict";

(function () {
  var subtle = globalThis.crypto && globalThis.crypto.subtle;
  var utf8 = new TextEncoder();

  function bytes() {
    var n = 0, i;
    for (i = 0; i < arguments.length; i++) n += arguments[i].length;
    var out = new Uint8Array(n), at = 0;
    for (i = 0; i < arguments.length; i++) { out.set(arguments[i], at); at += arguments[i].length; }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function hex(b) {
    var s = "";
    for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
    return s;
  }

  function toBase64(b) {
    var s = "";
    for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return btoa(s);
  }

  // fromBase64 decodes standard, padded base64, and only its one spelling.
  function fromBase64(s, what) {
    if (typeof s !== "string" || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) {
      throw new Error(what + " is not base64");
    }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    if (toBase64(out) !== s) throw new Error(what + " is not in canonical base64");
    return out;
  }

  async function sha256(b) {
    return new Uint8Array(await subtle.digest("SHA-256", b));
  }

  // parseKey reads a signed-note verifier key and checks its hash.
  async function parseKey(vkey, what) {
    var m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey || "");
    if (!m) throw new Error(what + " is not a verifier key (name+hash+base64)");
    var raw = fromBase64(m[3], what);
    if (raw.length !== 33 || raw[0] !== 1) throw new Error(what + " is not an Ed25519 key");
    var hash = (await sha256(bytes(utf8.encode(m[1] + "\n"), raw))).slice(0, 4);
    if (hex(hash) !== m[2]) throw new Error(what + " " + m[1] + "+" + m[2] + " does not match its own hash (" + hex(hash) + ")");
    var key = await subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"]);
    return { id: m[1] + "+" + m[2], name: m[1], hash: hash, key: key };
  }

  function ed25519(key, sig, msg) {
    return subtle.verify({ name: "Ed25519" }, key, sig, msg);
  }

  function indexOf(hay, needle, from) {
    outer: for (var i = from; i + needle.length <= hay.length; i++) {
      for (var j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
      return i;
    }
    return -1;
  }

  // splitLeaf cuts the leaf into the signed entry bytes and the signature.
  function splitLeaf(leaf) {
    var head = utf8.encode('{"entry":'), mid = utf8.encode(',"sig":"'), tail = utf8.encode('"}');
    if (!equal(leaf.slice(0, head.length), head) || !equal(leaf.slice(leaf.length - tail.length), tail)) {
      throw new Error('the leaf is not {"entry":…,"sig":"…"}');
    }
    // The signature, base64, holds no quote: its start is the last ,"sig":"
    var at = -1, i = head.length;
    while ((i = indexOf(leaf, mid, i)) >= 0) { at = i; i++; }
    if (at < 0) throw new Error("the leaf has no signature");
    var sigText = new TextDecoder().decode(leaf.slice(at + mid.length, leaf.length - tail.length));
    var sig = fromBase64(sigText, "the signature");
    if (sig.length !== 64) throw new Error("the signature is not 64 bytes");
    var entryBytes = leaf.slice(head.length, at);
    var parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(leaf));
    if (Object.keys(parsed).join(",") !== "entry,sig" || parsed.sig !== sigText) throw new Error("the leaf is not a signed entry");
    var entry = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(entryBytes));
    return { entryBytes: entryBytes, sig: sig, entry: entry };
  }

  // rootFromProof climbs from the leaf hash to the root (RFC 9162, 2.1.3.2).
  async function rootFromProof(index, size, leafHash, proof) {
    if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) {
      throw new Error("entry " + index + " cannot be in a tree of " + size + " entries");
    }
    var fn = index, sn = size - 1, r = leafHash;
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (sn === 0) throw new Error("the proof is longer than the tree is deep");
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(bytes([1], p, r));
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await sha256(bytes([1], r, p));
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error("the proof is shorter than the tree is deep");
    return r;
  }

  // parseCheckpoint splits a signed note into its text and signatures, and
  // reads the text's origin, size and root.
  function parseCheckpoint(note) {
    if (typeof note !== "string" || note === "") throw new Error("no checkpoint was signed for this tree");
    var split = note.lastIndexOf("\n\n");
    if (split < 0 || note[note.length - 1] !== "\n") throw new Error("the checkpoint is not a signed note");
    var text = note.slice(0, split + 1), sigs = note.slice(split + 2, note.length - 1).split("\n");
    var lines = text.split("\n");
    if (lines.length < 4 || !/^[0-9]+$/.test(lines[1])) throw new Error("the checkpoint's text is not origin, size, root");
    var root = fromBase64(lines[2], "the checkpoint's root");
    if (root.length !== 32) throw new Error("the checkpoint's root is not 32 bytes");
    var signatures = sigs.map(function (line) {
      var m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m) throw new Error("the checkpoint has a malformed signature line");
      return { name: m[1], sig: fromBase64(m[2], "the checkpoint's signature") };
    });
    return { text: text, origin: lines[0], size: Number(lines[1]), root: root, signatures: signatures };
  }

  // check runs every check on data (the #verify-data block) in order and
  // stops at the first failure. Each line says what was checked.
  async function check(data) {
    var lines = [];
    function ok(text) { lines.push({ ok: true, text: text }); }
    function fail(text) { lines.push({ ok: false, text: text }); return { ok: false, lines: lines }; }
    if (!subtle) return fail("this browser has no WebCrypto (it needs a secure context: https or localhost)");
    var step = "the data";
    try {
      step = "the leaf";
      var leaf = utf8.encode(data.leaf);
      var signed = splitLeaf(leaf);
      var author = signed.entry.author;

      step = "the author's key";
      var ak = await parseKey(data.author_key, "the author's key");
      if (ak.id !== author) return fail("the entry names its author " + author + ", but the key given is " + ak.id + ": invalid");
      var who = author + (data.holder ? " (" + data.holder + ")" : "");
      step = "the signature by " + who;
      if (!(await ed25519(ak.key, signed.sig, signed.entryBytes))) {
        return fail("signature by " + who + ": INVALID — the entry is not what its author signed");
      }
      ok("signature by " + who + ": valid");
      ok("entry hash (SHA-256 of the signed bytes): " + hex(await sha256(signed.entryBytes)));

      step = "the inclusion proof";
      var leafHash = await sha256(bytes([0], leaf));
      ok("leaf hash (SHA-256 of 0x00 and the leaf): " + hex(leafHash));
      var cp = parseCheckpoint(data.checkpoint);
      if (cp.size !== data.size) return fail("the proof is for a tree of " + data.size + " entries, the checkpoint for " + cp.size + ": invalid");
      var proof = (data.proof || []).map(function (h, i) {
        var b = fromBase64(h, "proof hash " + (i + 1));
        if (b.length !== 32) throw new Error("proof hash " + (i + 1) + " is not 32 bytes");
        return b;
      });
      var root = await rootFromProof(data.index, cp.size, leafHash, proof);
      if (!equal(root, cp.root)) {
        return fail("inclusion proof of entry " + data.index + ": INVALID — it leads to root " + toBase64(root) + ", not the checkpoint's " + toBase64(cp.root));
      }
      ok("inclusion proof: entry " + data.index + " is in the tree of " + cp.size + " entries with root " + toBase64(root) + ": valid");

      step = "the checkpoint";
      var op = await parseKey(data.operator_key, "the operator's key");
      if (cp.origin !== op.name) return fail("the checkpoint is for the log " + cp.origin + ", not the operator's " + op.name + ": invalid");
      var mine = cp.signatures.filter(function (s) { return s.name === op.name && equal(s.sig.slice(0, 4), op.hash); });
      if (mine.length !== 1 || mine[0].sig.length !== 68) return fail("the checkpoint carries no signature by the operator " + op.id + ": invalid");
      if (!(await ed25519(op.key, mine[0].sig.slice(4), utf8.encode(cp.text)))) {
        return fail("checkpoint signature by the operator " + op.id + ": INVALID");
      }
      ok("in the tree of " + cp.size + " entries signed by the operator " + op.id + ": valid");
      return { ok: true, lines: lines };
    } catch (e) {
      var msg = e && e.name === "NotSupportedError" ? "this browser cannot check Ed25519 signatures" : (e && e.message) || String(e);
      return fail(step + ": " + msg);
    }
  }

  if (typeof module === "object" && module.exports) {
    module.exports = { check: check };
    return;
  }

  var button = document.getElementById("verify-here");
  var out = document.getElementById("verify-result");
  var block = document.getElementById("verify-data");
  if (!button || !out || !block) return;
  button.addEventListener("click", async function () {
    button.disabled = true;
    out.removeAttribute("data-verdict");
    out.textContent = "Checking…";
    var result;
    try {
      result = await check(JSON.parse(block.textContent));
    } catch (e) {
      result = { ok: false, lines: [{ ok: false, text: "the page's data: " + ((e && e.message) || e) }] };
    }
    out.textContent = "";
    result.lines.forEach(function (l) {
      var line = document.createElement("span");
      line.className = "verify-line " + (l.ok ? "ok" : "bad");
      line.textContent = (l.ok ? "✓ " : "✗ ") + l.text;
      out.appendChild(line);
    });
    out.dataset.verdict = result.ok ? "ok" : "bad";
    out.className = result.ok ? "ok" : "bad";
    button.disabled = false;
  });
})();
