// Package pgurl edits PostgreSQL connection strings.
package pgurl

import "net/url"

// WithSearchPath returns the database URL u (or key=value settings) with
// its search path set to schema: a record's tables are in the first schema
// of the search path.
func WithSearchPath(u, schema string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" {
		return u + " search_path=" + schema
	}
	q := p.Query()
	q.Set("search_path", schema)
	p.RawQuery = q.Encode()
	return p.String()
}

// Redacted returns the database URL u without its password, to print;
// anything else (key=value settings, a SQLite path) as it is.
func Redacted(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	return p.Redacted()
}
