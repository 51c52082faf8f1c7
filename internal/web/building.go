package web

import (
	"net/http"

	"parley/internal/problem"
)

// Pages still being built answer 404 until they land.
func notBuilt() error { return problem.New(problem.NotFound, "", "this page is not built yet") }

func (s *Site) Timeline(w http.ResponseWriter, r *http.Request) error     { return notBuilt() }
func (s *Site) Statements(w http.ResponseWriter, r *http.Request) error   { return notBuilt() }
func (s *Site) Routes(w http.ResponseWriter, r *http.Request) error       { return notBuilt() }
func (s *Site) Dependencies(w http.ResponseWriter, r *http.Request) error { return notBuilt() }
func (s *Site) Entity(w http.ResponseWriter, r *http.Request) error       { return notBuilt() }
func (s *Site) Entry(w http.ResponseWriter, r *http.Request) error        { return notBuilt() }
func (s *Site) AddIndex(w http.ResponseWriter, r *http.Request) error     { return notBuilt() }
func (s *Site) AddForm(w http.ResponseWriter, r *http.Request) error      { return notBuilt() }
func (s *Site) Account(w http.ResponseWriter, r *http.Request) error      { return notBuilt() }
func (s *Site) Admin(w http.ResponseWriter, r *http.Request) error        { return notBuilt() }
func (s *Site) Channels(w http.ResponseWriter, r *http.Request) error     { return notBuilt() }
func (s *Site) Channel(w http.ResponseWriter, r *http.Request) error      { return notBuilt() }
