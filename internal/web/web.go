// Package web is parley's web UI: server-rendered pages (html/template,
// parsed once at start-up from the embedded templates) over the same
// questions as the CLI and the API, with a little JavaScript of our own for
// what only a browser can do: check proofs and signatures itself, sign
// entries with a key that never leaves it, and follow the live feed.
//
// The server (package server) routes requests here after it has decided who
// is asking and whether they may; it passes the viewer in the context.
package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"parley/internal/record"
	"parley/internal/state"
	"parley/internal/tlog"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// CSP is the Content-Security-Policy of every page: our own scripts,
// styles and images only, no inline script, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// A Viewer is who is looking: the server fills it in.
type Viewer struct {
	Name  string // "" for anonymous
	Role  string // admin, editor, monitor, reader
	Party string
	// CSRF is the session's token, for forms and for the page's scripts.
	CSRF string
	// CanRead says whether the viewer may read the record (an account, or
	// anyone on a public server): the footer's checkpoint and the live
	// feed are shown only then.
	CanRead bool
}

// SignedIn says whether the viewer has an account.
func (v Viewer) SignedIn() bool { return v.Name != "" }

// CanEdit says whether the viewer may append entries.
func (v Viewer) CanEdit() bool { return v.Role == "editor" || v.Role == "admin" || v.Role == "monitor" }

// IsAdmin says whether the viewer is an admin.
func (v Viewer) IsAdmin() bool { return v.Role == "admin" }

type viewerKey struct{}

// WithViewer returns ctx carrying the viewer.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

func viewerOf(ctx context.Context) Viewer {
	v, _ := ctx.Value(viewerKey{}).(Viewer)
	return v
}

// Site renders the pages of one record.
type Site struct {
	rec    *record.Record
	log    *slog.Logger
	pages  map[string]*template.Template
	static http.Handler
}

// New parses every page's templates.
func New(rec *record.Record, log *slog.Logger) (*Site, error) {
	s := &Site{rec: rec, log: log, pages: map[string]*template.Template{}, static: staticFiles()}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || strings.HasPrefix(base, "_") || strings.HasSuffix(base, "-standalone.html") {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", base, err)
		}
		s.pages[strings.TrimSuffix(base, ".html")] = t
	}
	return s, nil
}

// Static serves the stylesheet and scripts, which may be cached for a day.
func (s *Site) Static() http.Handler { return s.static }

// staticFiles is the handler of the embedded static directory.
func staticFiles() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("Content-Security-Policy", CSP)
		fsrv.ServeHTTP(w, r)
	})
}

// Page is what the layout needs from every page.
type Page struct {
	Title  string
	Nav    string // the nav item to mark as current
	Viewer Viewer
	Clock  ClockView
	// Checkpoint is the latest checkpoint, shown in the footer.
	Checkpoint tlog.Checkpoint
	Body       any
}

// ClockView is the page's place in time, as the URL holds it.
type ClockView struct {
	AsOf    string // as typed: a date or a time, "" for now
	KnownAt string // a date, a time or #N, "" for everything
	Clock   state.Clock
	Path    string // the page's path, for the controls' form
	// Extra are the page's own query parameters, kept by the controls.
	Extra url.Values
}

// Set says whether either clock is set.
func (c ClockView) Set() bool { return c.AsOf != "" || c.KnownAt != "" }

// Query returns the clock's query string, to carry it on links.
func (c ClockView) Query() string {
	v := url.Values{}
	if c.AsOf != "" {
		v.Set("as_of", c.AsOf)
	}
	if c.KnownAt != "" {
		v.Set("known_at", c.KnownAt)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// clockOf reads as_of and known_at from the request.
func clockOf(r *http.Request) ClockView {
	q := r.URL.Query()
	c := ClockView{AsOf: strings.TrimSpace(q.Get("as_of")), KnownAt: strings.TrimSpace(q.Get("known_at")), Path: r.URL.Path, Extra: url.Values{}}
	for k, v := range q {
		if k != "as_of" && k != "known_at" {
			c.Extra[k] = v
		}
	}
	return c
}

// ask asks a question at the page's clock, through the same path as the
// API (and its cache).
func (s *Site) ask(ctx context.Context, c ClockView, q state.Query) (any, error) {
	q.AsOf, q.KnownAt = c.AsOf, c.KnownAt
	return s.rec.Ask.Answer(ctx, q, nil)
}

// render renders a page into a buffer first, so that a template error is
// a clean 500, not half a page.
func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, name string, p Page) error {
	t, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	p.Viewer = viewerOf(r.Context())
	if p.Clock.Path == "" {
		p.Clock = clockOf(r)
	}
	p.Checkpoint, _ = s.rec.Log.Latest()
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", CSP)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// ErrorView is an error page's body.
type ErrorView struct {
	Status int
	Title  string
	Detail string
	Where  string
}

// Fail renders an error page. The server decides the status and what may be
// said; the page says it.
func (s *Site) Fail(w http.ResponseWriter, r *http.Request, e ErrorView) {
	if err := s.render(w, r, e.Status, "error", Page{Title: e.Title, Body: e}); err != nil {
		s.log.ErrorContext(r.Context(), "error page", "err", err)
		http.Error(w, e.Title, e.Status)
	}
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"day":     func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"minute":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"entity":  entityPath,
	"stanceClass": func(s string) string {
		return "stance-" + strings.ReplaceAll(s, " ", "-")
	},
	"join": strings.Join,
	"short": func(s string, n int) string {
		r := []rune(s)
		if len(r) <= n {
			return s
		}
		return string(r[:n-1]) + "…"
	},
	"add":   func(a, b int) int { return a + b },
	"daily": dailyLink,
	"link":  pageLink,
	"keys":  sortedKeys,
}

// entityPath is the page of an entity, from its key ("party/russia").
func entityPath(key string) string {
	kind, id, ok := strings.Cut(key, "/")
	if !ok {
		return "/"
	}
	return "/e/" + url.PathEscape(kind) + "/" + url.PathEscape(id)
}
