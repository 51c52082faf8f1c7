package server

import (
	_ "embed"
	"net/http"
)

// openapiDoc describes the API: OpenAPI 3.1, kept true by TestOpenAPI,
// which checks every route against it.
//
//go:embed openapi.json
var openapiDoc []byte

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openapiDoc)
	return err
}
