package web

import "net/http"

// SignInView is the sign-in form, with the error of a refused attempt.
type SignInView struct {
	Next   string
	Name   string
	Error  string
	Status int
}

// SignIn renders the sign-in form.
func (s *Site) SignIn(w http.ResponseWriter, r *http.Request, v SignInView) error {
	status := http.StatusOK
	if v.Status != 0 {
		status = v.Status
	}
	return s.render(w, r, status, "signin", Page{Title: "Sign in", Body: v})
}
