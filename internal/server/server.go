// Package server is parley on the network: the JSON API under /api/v1, the
// log in the C2SP tlog-tiles layout, health and metrics. It turns requests
// into calls on a record and refusals into RFC 9457 problem details; it
// holds no private key of any author (entries arrive signed).
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"

	"parley/internal/account"
	"parley/internal/entry"
	"parley/internal/evidence"
	"parley/internal/problem"
	"parley/internal/record"
	"parley/internal/web"
)

// Options configure a server.
type Options struct {
	// PublicRead lets anyone, signed in or not, read the record and ask it
	// questions; without it, reading needs an account.
	PublicRead bool
	// MaxBody is the largest request body accepted, in bytes; default 8 MiB.
	MaxBody int64
	// Logger receives structured logs; default slog.Default().
	Logger *slog.Logger
	// EvidenceMax is the largest evidence file accepted, in bytes; default
	// evidence.DefaultMax (100 MiB).
	EvidenceMax int64
	// InsecureCookies leaves the Secure flag off the session cookie. It is
	// for tests that sign in over plain HTTP to a host other than loopback:
	// browsers treat http://127.0.0.1 and http://localhost as secure.
	InsecureCookies bool
}

// DefaultMaxBody is the default limit on a request body.
const DefaultMaxBody = 8 << 20

// Server serves one record.
type Server struct {
	rec      *record.Record
	accounts *account.Service
	opts     Options
	log      *slog.Logger
	metrics  *metrics
	web      *web.Site
	evidence *evidence.Store
	mux      *http.ServeMux
	handler  http.Handler

	// inflight counts appends being sequenced, so that shutdown waits
	// for them to be acknowledged.
	inflight sync.WaitGroup
	// answering admits the requests that ask questions (the API's and the
	// pages'): each may sort a kind's facts, so a few at a time bound the
	// memory a busy server uses; the rest wait their turn.
	answering chan struct{}
}

// maxAnswering is how many questions are answered at once.
const maxAnswering = 4

// New makes a server for rec, whose accounts are acc.
func New(rec *record.Record, acc *account.Service, opts Options) (*Server, error) {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{rec: rec, accounts: acc, opts: opts, log: opts.Logger, mux: http.NewServeMux(),
		answering: make(chan struct{}, maxAnswering)}
	s.metrics = newMetrics(rec)
	site, err := web.New(rec, opts.Logger)
	if err != nil {
		return nil, err
	}
	s.web = site
	if s.evidence, err = evidence.Open(evidence.Dir(rec.Dir), opts.EvidenceMax); err != nil {
		return nil, err
	}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, s.guard(rt, false))
	}
	for _, rt := range s.pages() {
		s.mux.Handle(rt.pattern, s.guard(rt, true))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := s.allowedMethods(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.fail(w, r, problem.New(kindMethod, "", "%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", ")))
			return
		}
		s.fail(w, r, problem.New(problem.NotFound, "", "no such endpoint: %s %s (see /api/v1/openapi.json)", r.Method, r.URL.Path))
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, problem.New(problem.Forbidden, "Origin", "a state-changing request from another site is refused"))
	}))
	s.handler = s.observe(cop.Handler(s.mux))
	return s, nil
}

// allowedMethods lists the methods some route takes at r's path.
func (s *Server) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	return allow
}

// Handler returns the server's whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves on ln until ctx is done, then shuts down gracefully: it
// stops accepting, lets requests in flight finish (an append already
// submitted is acknowledged), and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	s.inflight.Wait()
	if errors.Is(err, context.DeadlineExceeded) {
		hs.Close()
	}
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// A handler answers a request for a caller already identified and allowed.
type handler func(w http.ResponseWriter, r *http.Request) error

// guard identifies the caller, checks the route's access level and CSRF,
// limits the body, and turns a handler's error into a problem detail.
func (s *Server) guard(rt route, page bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.bodyLimit(rt))
		}
		c, err := s.identify(r)
		if err != nil && r.Header.Get("Authorization") == "" {
			// A session that has ended: the browser keeps sending its
			// cookie until told otherwise.
			s.setSessionCookie(w, "", time.Time{})
			if rt.access == public {
				c, err = caller{}, nil
			}
		}
		if err == nil {
			err = s.allowed(c, rt.access)
		}
		if err == nil {
			err = checkCSRF(r, c)
		}
		ctx := context.WithValue(r.Context(), callerKey{}, c)
		if page {
			v := web.Viewer{Name: c.account.Name, Role: string(c.role), Party: c.account.Party, CanRead: s.allowed(c, read) == nil}
			if c.session != nil {
				v.CSRF = c.session.CSRF
			}
			ctx = web.WithViewer(ctx, v)
		}
		r = r.WithContext(ctx)
		if err != nil {
			s.failFor(page, w, r, err)
			return
		}
		if (page && !strings.HasPrefix(rt.pattern, "GET /static/")) || strings.HasPrefix(rt.pattern, "GET /api/v1/ask/") {
			select {
			case s.answering <- struct{}{}:
				defer func() { <-s.answering }()
			case <-r.Context().Done():
				return
			}
		}
		if err := rt.handle(w, r); err != nil {
			s.failFor(page, w, r, err)
		}
	})
}

// failFor answers a refusal as the route speaks: a problem detail from the
// API, an HTML page (or, for a page that needs a sign-in, a redirect to the
// sign-in page) from the web UI.
func (s *Server) failFor(page bool, w http.ResponseWriter, r *http.Request, err error) {
	if !page {
		s.fail(w, r, err)
		return
	}
	p := problemOf(err)
	if p.Status >= 500 {
		s.log.ErrorContext(r.Context(), "page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if p.Status == http.StatusUnauthorized && r.Method == http.MethodGet {
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	s.web.Fail(w, r, web.ErrorView{Status: p.Status, Title: p.Title, Detail: p.Detail, Where: p.Where})
}

// statusWriter remembers the status written, for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs each request, counts it, times it, sets the headers every
// response carries, and turns a panic into a 500.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					s.fail(sw, r, errors.New("panic"))
				}
			}
			pattern := r.Pattern
			if pattern == "" || pattern == "/" {
				pattern = "other"
			}
			d := time.Since(start)
			s.metrics.observe(pattern, sw.status, d)
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelError
			}
			s.log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
				"bytes", sw.bytes, "duration_ms", float64(d.Microseconds())/1000, "remote", r.RemoteAddr)
		}()
		next.ServeHTTP(sw, r)
	})
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return writeBody(w, v)
}

func writeBody(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v, json.Deterministic(true))
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// decode reads a JSON request body into v: it must be application/json,
// within the size limit, well-formed, and without unknown members.
func decode(r *http.Request, v any) error {
	if err := wantJSON(r); err != nil {
		return err
	}
	b, err := readBody(r)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return problem.New(problem.Invalid, "body", "the request has no body: send a JSON object")
	}
	if err := json.Unmarshal(b, v, json.RejectUnknownMembers(true)); err != nil {
		return problem.New(problem.Invalid, "body", "%s", entry.DescribeJSON(err))
	}
	return nil
}

// wantJSON refuses a body that is not declared as JSON.
func wantJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(strings.ToLower(mt))
	if mt != "application/json" && mt != "application/jsonl" && mt != "application/x-ndjson" {
		if ct == "" {
			ct = "none"
		}
		return problem.New(kindUnsupported, "Content-Type", "%s: send application/json", ct)
	}
	return nil
}

// readBody reads the whole body, refusing one over the limit.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, problem.New(problem.TooLarge, "body", "the body is over the limit of %d bytes", mb.Limit)
		}
		return nil, problem.New(problem.Invalid, "body", "reading the body: %v", err)
	}
	return b, nil
}
