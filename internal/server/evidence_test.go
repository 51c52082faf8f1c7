package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"parley/internal/account"
	"parley/internal/evidence"
)

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// blobs counts the files stored under the record's evidence directory.
func blobs(t *testing.T, ls *liveServer) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(evidence.Dir(ls.rec.Dir), "sha256"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

var jpeg = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte{0x42}, 300)...)

func TestEvidence(t *testing.T) {
	ls := startLive(t, Options{}, false)
	monitor, editor, reader := ls.users[account.Monitor], ls.users[account.Editor], ls.users[account.Reader]
	hash := sha256Hex(jpeg)
	size := ls.size()

	// A monitor uploads a photo: 201, newly stored.
	r := ls.do(call{method: "POST", path: "/api/v1/evidence?name=" + "..%2Fcrater%0A.jpg", token: monitor.token, body: jpeg, contentType: "image/jpeg"})
	r.want(t, http.StatusCreated, "first upload")
	var it evidence.Item
	r.decode(t, &it)
	if it.SHA256 != hash || it.Size != int64(len(jpeg)) || it.Type != "image/jpeg" || it.Sniffed != "image/jpeg" ||
		len(it.Uploads) != 1 || it.Uploads[0].Name != "crater.jpg" || it.Uploads[0].By != "account:monitor" {
		t.Fatalf("item %+v", it)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/evidence/"+hash {
		t.Errorf("Location %q", loc)
	}

	// An editor uploads the same bytes under another name, given in
	// Content-Disposition: 200, and the upload is recorded.
	r = ls.do(call{method: "POST", path: "/api/v1/evidence", token: editor.token, body: jpeg, contentType: "application/octet-stream",
		header: map[string]string{"Content-Disposition": `attachment; filename="same.jpg"`}})
	r.want(t, http.StatusOK, "second upload")
	r.decode(t, &it)
	if len(it.Uploads) != 2 || it.Uploads[1].Name != "same.jpg" || it.Uploads[1].By != "account:editor" || it.Type != "image/jpeg" {
		t.Errorf("after the second upload: %+v", it)
	}
	if n := blobs(t, ls); n != 1 {
		t.Errorf("%d files stored, want 1", n)
	}
	if has, err := ls.srv.evidenceHas(hash); !has || err != nil {
		t.Errorf("evidenceHas(the photo) = %v, %v", has, err)
	}
	if has, err := ls.srv.evidenceHas(sha256Hex([]byte("never"))); has || err != nil {
		t.Errorf("evidenceHas(a file never stored) = %v, %v", has, err)
	}
	if got := ls.size(); got != size {
		t.Errorf("uploading evidence changed the log: size %d, was %d", got, size)
	}

	// A reader gets it: the bytes, immutable, shown in place (an image).
	r = ls.do(call{method: "GET", path: "/api/v1/evidence/" + hash, token: reader.token}).want(t, http.StatusOK, "get")
	if !bytes.Equal(r.body, jpeg) {
		t.Errorf("got %d bytes, want the photo", len(r.body))
	}
	for k, want := range map[string]string{
		"Content-Type":            "image/jpeg",
		"ETag":                    `"` + hash + `"`,
		"Cache-Control":           "private, max-age=31536000, immutable",
		"X-Content-Type-Options":  "nosniff",
		"Content-Disposition":     `inline; filename=crater.jpg`,
		"Content-Security-Policy": "sandbox",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	r = ls.do(call{method: "GET", path: "/api/v1/evidence/" + hash, token: reader.token, header: map[string]string{"If-None-Match": `"` + hash + `"`}})
	r.want(t, http.StatusNotModified, "get with If-None-Match")

	// The metadata.
	r = ls.do(call{method: "GET", path: "/api/v1/evidence/" + hash + "/meta", token: reader.token}).want(t, http.StatusOK, "meta")
	var meta evidence.Item
	r.decode(t, &meta)
	if meta.SHA256 != hash || len(meta.Uploads) != 2 {
		t.Errorf("meta %+v", meta)
	}

	// A document that is not an image is an attachment, whatever it says
	// it is.
	html := []byte("<html><script>alert(1)</script></html>")
	ls.do(call{method: "POST", path: "/api/v1/evidence?name=report.html", token: monitor.token, body: html, contentType: "text/html"}).
		want(t, http.StatusCreated, "upload html")
	r = ls.do(call{method: "GET", path: "/api/v1/evidence/" + sha256Hex(html), token: reader.token}).want(t, http.StatusOK, "get html")
	if cd := r.header.Get("Content-Disposition"); cd != "attachment; filename=report.html" {
		t.Errorf("Content-Disposition %q, want an attachment", cd)
	}

	// A name outside ASCII is given as RFC 8187 says.
	clip := []byte("video of the strike")
	ls.do(call{method: "POST", path: "/api/v1/evidence?name=%D1%83%D0%B4%D0%B0%D1%80.mp4", token: monitor.token, body: clip, contentType: "video/mp4"}).
		want(t, http.StatusCreated, "upload with a Cyrillic name")
	r = ls.do(call{method: "GET", path: "/api/v1/evidence/" + sha256Hex(clip), token: reader.token}).want(t, http.StatusOK, "get the clip")
	if cd := r.header.Get("Content-Disposition"); cd != "attachment; filename*=utf-8''%D1%83%D0%B4%D0%B0%D1%80.mp4" {
		t.Errorf("Content-Disposition %q", cd)
	}

	// Refusals.
	ls.do(call{method: "POST", path: "/api/v1/evidence", token: reader.token, body: jpeg, contentType: "image/jpeg"}).problem(t, http.StatusForbidden, "forbidden")
	ls.do(call{method: "POST", path: "/api/v1/evidence", body: jpeg, contentType: "image/jpeg"}).problem(t, http.StatusUnauthorized, "unauthenticated")
	ls.do(call{method: "GET", path: "/api/v1/evidence/" + hash}).problem(t, http.StatusUnauthorized, "unauthenticated")
	for _, bad := range []string{"abc", strings.ToUpper(hash), hash[:63] + "z"} {
		ls.do(call{method: "GET", path: "/api/v1/evidence/" + bad, token: reader.token}).problem(t, http.StatusBadRequest, "invalid")
		ls.do(call{method: "GET", path: "/api/v1/evidence/" + bad + "/meta", token: reader.token}).problem(t, http.StatusBadRequest, "invalid")
	}
	unknown := sha256Hex([]byte("not stored"))
	ls.do(call{method: "GET", path: "/api/v1/evidence/" + unknown, token: reader.token}).problem(t, http.StatusNotFound, "not-found")
	ls.do(call{method: "GET", path: "/api/v1/evidence/" + unknown + "/meta", token: reader.token}).problem(t, http.StatusNotFound, "not-found")
	ls.do(call{method: "POST", path: "/api/v1/evidence", token: monitor.token, body: "--x\r\n", contentType: "multipart/form-data; boundary=x"}).
		problem(t, http.StatusUnsupportedMediaType, "unsupported-media-type")
	ls.do(call{method: "POST", path: "/api/v1/evidence", token: monitor.token, body: "x", contentType: "not a type"}).problem(t, http.StatusBadRequest, "invalid")
	ls.do(call{method: "POST", path: "/api/v1/evidence", token: monitor.token, body: "", contentType: "text/plain"}).problem(t, http.StatusBadRequest, "invalid")
	if n := blobs(t, ls); n != 3 {
		t.Errorf("%d files stored after the refusals, want 3", n)
	}
}

// With the session cookie, an upload needs the CSRF token.
func TestEvidenceCSRF(t *testing.T) {
	ls := startLive(t, Options{}, false)
	cookie, csrf := ls.signIn("monitor")
	ls.do(call{method: "POST", path: "/api/v1/evidence?name=a.txt", cookie: cookie, body: "a statement", contentType: "text/plain"}).
		problem(t, http.StatusForbidden, "forbidden")
	if n := blobs(t, ls); n != 0 {
		t.Errorf("a refused upload stored %d files", n)
	}
	ls.do(call{method: "POST", path: "/api/v1/evidence?name=a.txt", cookie: cookie, csrf: csrf, body: "a statement", contentType: "text/plain"}).
		want(t, http.StatusCreated, "upload with the CSRF token")
}

func TestEvidenceTooLarge(t *testing.T) {
	ls := startLive(t, Options{EvidenceMax: 1024}, false)
	monitor := ls.users[account.Monitor]

	// Declared too large: refused before reading.
	p := ls.do(call{method: "POST", path: "/api/v1/evidence", token: monitor.token, body: make([]byte, 4096), contentType: "video/mp4"}).
		problem(t, http.StatusRequestEntityTooLarge, "too-large")
	if !strings.Contains(p.Detail, "1 KiB (1024 bytes)") || !strings.Contains(p.Detail, "4096 bytes") {
		t.Errorf("detail %q: say the limit and the size", p.Detail)
	}

	// Sent without a length: refused once the limit is passed.
	req, err := http.NewRequest("POST", ls.http.URL+"/api/v1/evidence?name=long.mp4", io.MultiReader(bytes.NewReader(make([]byte, 4096))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+monitor.token)
	req.Header.Set("Content-Type", "video/mp4")
	resp, err := ls.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r := reply{status: resp.StatusCode, header: resp.Header, body: b}
	p = r.problem(t, http.StatusRequestEntityTooLarge, "too-large")
	if !strings.Contains(p.Detail, "1 KiB (1024 bytes)") || !strings.Contains(p.Detail, "1025 bytes") {
		t.Errorf("detail %q: say the limit and how much was read", p.Detail)
	}
	if n := blobs(t, ls); n != 0 {
		t.Errorf("%d files stored over the limit", n)
	}
	tmp, _ := os.ReadDir(filepath.Join(evidence.Dir(ls.rec.Dir), "tmp"))
	if len(tmp) != 0 {
		t.Errorf("temp files left: %v", tmp)
	}

	// Exactly the limit is fine, and more than the JSON body limit is too.
	ls.do(call{method: "POST", path: "/api/v1/evidence", token: monitor.token, body: make([]byte, 1024), contentType: "video/mp4"}).
		want(t, http.StatusCreated, "a file of the limit")
	big := startLive(t, Options{MaxBody: 1024, EvidenceMax: 64 << 10}, false)
	big.do(call{method: "POST", path: "/api/v1/evidence", token: big.users[account.Admin].token, body: make([]byte, 32<<10), contentType: "video/mp4"}).
		want(t, http.StatusCreated, "a file over --max-body, within --evidence-max")
}

// The evidence schemas in openapi.json list the members of evidence.Item
// and evidence.Upload.
func TestEvidenceSchemas(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"EvidenceItem": evidence.Item{}, "EvidenceUpload": evidence.Upload{}} {
		var documented []string
		for p := range doc.Components.Schemas[name].Properties {
			documented = append(documented, p)
		}
		slices.Sort(documented)
		if fields := jsonFields(reflect.TypeOf(v)); !slices.Equal(documented, fields) {
			t.Errorf("schema %s has %v; %T has %v", name, documented, v, fields)
		}
	}
}
