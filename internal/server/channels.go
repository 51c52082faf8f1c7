package server

import (
	"net/http"

	"parley/internal/problem"
)

// The confidential channels' handlers: being built; until then no channel
// exists for anyone.

func noChannel(w http.ResponseWriter, r *http.Request) error {
	return problem.New(problem.NotFound, "", "no such channel")
}

func (s *Server) createChannel(w http.ResponseWriter, r *http.Request) error { return noChannel(w, r) }
func (s *Server) listChannels(w http.ResponseWriter, r *http.Request) error  { return noChannel(w, r) }
func (s *Server) getChannel(w http.ResponseWriter, r *http.Request) error    { return noChannel(w, r) }
func (s *Server) addMember(w http.ResponseWriter, r *http.Request) error     { return noChannel(w, r) }
func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error  { return noChannel(w, r) }
func (s *Server) postSealed(w http.ResponseWriter, r *http.Request) error    { return noChannel(w, r) }
func (s *Server) listSealed(w http.ResponseWriter, r *http.Request) error    { return noChannel(w, r) }
func (s *Server) getSealed(w http.ResponseWriter, r *http.Request) error     { return noChannel(w, r) }
