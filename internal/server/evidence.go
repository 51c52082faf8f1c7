package server

import (
	"mime"
	"net/http"
	"strings"

	"parley/internal/evidence"
	"parley/internal/problem"
)

// The evidence an incident report rests on: files kept content-addressed
// beside the record (DIR/evidence), named in the log by SHA-256 only.

// evidenceUpload is the route that receives files: its body may be as large
// as the evidence limit rather than the JSON limit.
const evidenceUpload = "POST /api/v1/evidence"

// bodyLimit is the largest body the guard lets a route read.
func (s *Server) bodyLimit(rt route) int64 {
	if rt.pattern == evidenceUpload {
		// One byte over the limit, so that the store sees the file is
		// too large and says so with the limit and what it read.
		return s.evidence.Max() + 1
	}
	return s.opts.MaxBody
}

// evidenceHas says whether the file with this SHA-256 is stored, for
// checking the evidence an entry names; an error is the store failing to
// look, not the file missing.
func (s *Server) evidenceHas(hash string) (bool, error) { return s.evidence.Has(hash) }

// postEvidence stores the request body as a file: 201 if it is new, 200 if
// the same content was stored before (the upload is recorded either way).
func (s *Server) postEvidence(w http.ResponseWriter, r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case strings.HasPrefix(mt, "multipart/"), mt == "application/x-www-form-urlencoded":
		return problem.New(kindUnsupported, "Content-Type", "%s: send the file itself as the body, with its own media type (and its name in ?name=)", mt)
	case r.ContentLength > s.evidence.Max():
		p := problem.New(problem.TooLarge, "body", "the file is %s (%d bytes), over the limit of %s (%d bytes); nothing was stored",
			evidence.FormatSize(r.ContentLength), r.ContentLength, evidence.FormatSize(s.evidence.Max()), s.evidence.Max())
		p.Err = evidence.ErrTooLarge
		return p
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
			name = params["filename"]
		}
	}
	up := evidence.Upload{Name: name, Type: ct, By: "account:" + callerOf(r.Context()).account.Name}
	it, fresh, err := s.evidence.Put(r.Context(), r.Body, up)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if fresh {
		status = http.StatusCreated
	}
	w.Header().Set("Location", "/api/v1/evidence/"+it.SHA256)
	return writeJSON(w, status, it)
}

// getEvidence serves a stored file. Its hash names its content, so it never
// changes: it is cached for good. It is served so that a browser cannot
// run it: nosniff, a sandbox, and as an attachment unless it is an image.
func (s *Server) getEvidence(w http.ResponseWriter, r *http.Request) error {
	f, it, err := s.evidence.Get(r.PathValue("sha256"))
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	typ := it.Type
	if typ == "" {
		typ = "application/octet-stream"
	}
	h.Set("Content-Type", typ)
	h.Set("ETag", `"`+it.SHA256+`"`)
	cache := "private"
	if s.opts.PublicRead {
		cache = "public"
	}
	h.Set("Cache-Control", cache+", max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	disposition := "attachment"
	if inlineImage(typ) {
		disposition = "inline"
	}
	if named := mime.FormatMediaType(disposition, map[string]string{"filename": it.Uploads[0].Name}); it.Uploads[0].Name != "" && named != "" {
		disposition = named
	}
	h.Set("Content-Disposition", disposition)
	http.ServeContent(w, r, "", it.Uploads[0].Time, f)
	return nil
}

// inlineImage says whether a browser may show a file of this type in
// place: images, but not SVG, which can carry scripts.
func inlineImage(typ string) bool {
	mt, _, _ := mime.ParseMediaType(typ)
	return strings.HasPrefix(mt, "image/") && mt != "image/svg+xml"
}

// evidenceMeta answers what is known of a stored file: its size, types and
// every upload of it.
func (s *Server) evidenceMeta(w http.ResponseWriter, r *http.Request) error {
	it, err := s.evidence.Stat(r.PathValue("sha256"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, it)
}
