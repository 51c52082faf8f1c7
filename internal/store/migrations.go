package store

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// A Migration is one numbered SQL file of a driver's schema, applied once
// and recorded by its number.
type Migration struct {
	Version int    // the number the file name begins with
	Name    string // the file name, such as "003_facts.sql"
	Body    string
}

// Migrations reads the migrations dir/*.sql of fsys (a driver's embedded
// files) in the order of their numbers. Each name must begin with its
// number and "_", every number with the same count of digits, so that the
// names sort as the numbers do; no two may share a number.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	paths, err := fs.Glob(fsys, path.Join(dir, "*.sql")) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var out []Migration
	for _, p := range paths {
		name := path.Base(p)
		num, _, _ := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number", name)
		}
		if n := len(out); n > 0 && out[n-1].Version == version {
			return nil, fmt.Errorf("migrations %s and %s have the same number", out[n-1].Name, name)
		} else if n > 0 && out[n-1].Version > version {
			return nil, fmt.Errorf("migrations %s and %s: names must sort as their numbers do (give each number the same digits)", out[n-1].Name, name)
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		out = append(out, Migration{Version: version, Name: name, Body: string(body)})
	}
	return out, nil
}

// Migrator is implemented by every driver: its store brings its schema up
// to date when it is opened, under a lock where several processes may open
// it at once, and says what it applied.
type Migrator interface {
	// Migrated returns the names of the migrations applied when the store
	// was opened, in order; none if its schema was up to date.
	Migrated() []string
}
