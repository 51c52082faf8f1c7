package main

import (
	"context"
	"errors"

	"parley/internal/state"
)

// askServer asks a parley server.
func askServer(ctx context.Context, e *env, q state.Query) (any, error) {
	return nil, errors.New("ask --server: not built yet")
}
