package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"parley/internal/account"
	"parley/internal/problem"
)

// ProblemBase is where the problem types live: each kind of refusal has a
// stable type URI, ProblemBase + kind, and GET on it describes the kind.
const ProblemBase = "/api/v1/problems/"

// statuses maps each kind of refusal to its HTTP status. This is the one
// place that does.
var statuses = map[problem.Kind]int{
	problem.Invalid:         http.StatusBadRequest,
	problem.NotFound:        http.StatusNotFound,
	problem.Unauthorized:    http.StatusForbidden,
	problem.TooLarge:        http.StatusRequestEntityTooLarge,
	problem.Conflict:        http.StatusConflict,
	problem.Tampered:        http.StatusUnprocessableEntity,
	problem.Internal:        http.StatusInternalServerError,
	problem.Unauthenticated: http.StatusUnauthorized,
	problem.Forbidden:       http.StatusForbidden,
	problem.RateLimited:     http.StatusTooManyRequests,
	kindUnsupported:         http.StatusUnsupportedMediaType,
	kindMethod:              http.StatusMethodNotAllowed,
}

// Kinds of refusal only HTTP has.
const (
	kindUnsupported problem.Kind = "unsupported-media-type"
	kindMethod      problem.Kind = "method-not-allowed"
)

// titles are the problem types' short, fixed titles.
var titles = map[problem.Kind]string{
	problem.Invalid:         "The request is malformed or fails validation",
	problem.NotFound:        "No such thing",
	problem.Unauthorized:    "The signing key is not registered, or was revoked",
	problem.TooLarge:        "The request is too large",
	problem.Conflict:        "The request conflicts with the record",
	problem.Tampered:        "A signature, hash or proof does not check",
	problem.Internal:        "A fault on the server",
	problem.Unauthenticated: "Sign in, or send an API token",
	problem.Forbidden:       "Your role does not allow this",
	problem.RateLimited:     "Too many attempts: wait, then try again",
	kindUnsupported:         "The request body is not of a type this endpoint takes",
	kindMethod:              "This method is not allowed here",
}

// A Problem is an RFC 9457 problem detail.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
	// Where names the field, parameter, line or entry that was wrong.
	Where string `json:"where,omitempty"`
	// Kind is the last part of Type, for programs that switch on it.
	Kind string `json:"kind"`
}

// problemOf turns an error into the problem detail the client sees.
// Internal errors say only that something failed; the log has the cause.
func problemOf(err error) Problem {
	kind := problem.KindOf(err)
	status, ok := statuses[kind]
	if !ok {
		kind, status = problem.Internal, http.StatusInternalServerError
	}
	p := Problem{Type: ProblemBase + string(kind), Title: titles[kind], Status: status, Kind: string(kind)}
	var pe *problem.Error
	if kind != problem.Internal && errors.As(err, &pe) {
		p.Detail, p.Where = pe.Message, pe.Where
		if p.Where != "" {
			p.Detail = p.Where + ": " + p.Detail
		}
	} else {
		p.Detail = "the server failed to answer; the fault is logged"
	}
	return p
}

// fail writes err as a problem detail, and logs it if it is the server's
// own fault.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := problemOf(err)
	p.Instance = r.URL.Path
	if p.Status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var th *account.Throttled
	if errors.As(err, &th) {
		w.Header().Set("Retry-After", strconv.Itoa(int(th.RetryAfter.Seconds())+1))
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	writeBody(w, p)
}

// describeProblem serves the documentation of a problem type.
func (s *Server) describeProblem(w http.ResponseWriter, r *http.Request) error {
	kind := problem.Kind(r.PathValue("kind"))
	title, ok := titles[kind]
	if !ok {
		return problem.New(problem.NotFound, "", "no problem type %q", kind)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"type": ProblemBase + string(kind), "title": title, "status": statuses[kind],
		"kind": kind, "description": fmt.Sprintf("parley answers %d with this type when: %s.", statuses[kind], title)})
}
