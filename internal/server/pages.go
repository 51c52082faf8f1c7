package server

import (
	"net/http"
	"strings"
	"time"

	"parley/internal/problem"
	"parley/internal/web"
)

// The pages the server answers itself: signing in and out, which set the
// session cookie, and the static files.

func (s *Server) static(w http.ResponseWriter, r *http.Request) error {
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + r.PathValue("file")
	s.web.Static().ServeHTTP(w, r2)
	return nil
}

// nextPath is where to go after signing in: a path on this site only.
func nextPath(r *http.Request) string {
	n := r.FormValue("next")
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\\\") {
		return "/"
	}
	return n
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) error {
	return s.web.SignIn(w, r, web.SignInView{Next: nextPath(r)})
}

// signInForm signs in from the form; a refusal shows the form again with
// the error next to the field.
func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return problem.New(problem.Invalid, "body", "the form could not be read: %v", err)
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	cookie, sess, _, err := s.accounts.SignIn(r.Context(), name, r.PostFormValue("password"), remoteHost(r))
	if err != nil {
		p := problemOf(err)
		if p.Status >= 500 {
			return err
		}
		return s.web.SignIn(w, r, web.SignInView{Next: nextPath(r), Name: name, Error: p.Detail, Status: p.Status})
	}
	s.setSessionCookie(w, cookie, sess.Expires)
	http.Redirect(w, r, nextPath(r), http.StatusSeeOther)
	return nil
}

func (s *Server) signOutForm(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r.Context())
	if c.session != nil {
		if err := s.accounts.SignOut(r.Context(), c.cookie); err != nil {
			return err
		}
	}
	s.setSessionCookie(w, "", time.Time{})
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}
