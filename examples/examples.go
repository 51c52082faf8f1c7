// Package examples holds the seed case as data: the entries of the news
// report parley is built around, each quoting the span it rests on.
package examples

import _ "embed"

// Seed is the seed case, one unsigned entry per line, each naming the key
// that signs it ("as"): kremlin, ukraine-presidency, us-administration, press.
//
//go:embed seed.jsonl
var Seed []byte

// SeedAuthors are the keys that sign the seed case, and who holds them.
var SeedAuthors = [][2]string{
	{"kremlin", "Kremlin press office"},
	{"ukraine-presidency", "Office of the President of Ukraine"},
	{"us-administration", "U.S. administration"},
	{"press", "press reports"},
}
