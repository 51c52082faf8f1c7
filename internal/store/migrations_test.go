package store

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrations(t *testing.T) {
	file := func(body string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(body)} }
	good := fstest.MapFS{
		"m/002_b.sql":   file("B"),
		"m/001_a.sql":   file("A"),
		"m/README.md":   file("not a migration"),
		"other/003.sql": file("elsewhere"),
	}
	got, err := Migrations(good, "m")
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	want := []Migration{{1, "001_a.sql", "A"}, {2, "002_b.sql", "B"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Migrations = %+v, want %+v", got, want)
	}
	for _, c := range []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"same number", fstest.MapFS{"m/001_a.sql": file(""), "m/001_b.sql": file("")}, "same number"},
		{"not in number order", fstest.MapFS{"m/10_a.sql": file(""), "m/9_b.sql": file("")}, "sort as their numbers"},
		{"no number", fstest.MapFS{"m/a.sql": file("")}, "must start with its number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Migrations(c.fsys, "m"); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Migrations = %v, want an error saying %q", err, c.want)
			}
		})
	}
}
