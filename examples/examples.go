// Package examples holds the seed case as data: the entries of the news
// report parley is built around, each quoting the span it rests on.
package examples

import _ "embed"

// Seed is the seed case, one unsigned entry per line, each naming the key
// that signs it ("as"): kremlin, ukraine-presidency, us-administration, press.
//
//go:embed seed.jsonl
var Seed []byte

// Ceasefire continues the seed case past the report, as an illustration:
// a hypothetical 30-day ceasefire agreed on 19 March 2025 and its first week
// of incident reports and reviews, by the parties and by a monitoring
// mission. It is not from the news report; it exercises the monitoring.
//
//go:embed ceasefire.jsonl
var Ceasefire []byte

// SeedAuthors are the keys that sign the seed case, and who holds them.
var SeedAuthors = [][2]string{
	{"kremlin", "Kremlin press office"},
	{"ukraine-presidency", "Office of the President of Ukraine"},
	{"us-administration", "U.S. administration"},
	{"press", "press reports"},
}

// CeasefireAuthors are the keys that sign the ceasefire's week besides
// the seed's, registered after the seed case.
var CeasefireAuthors = [][2]string{
	{"monitor-north", "Ceasefire Monitoring Mission, team North"},
	{"monitor-south", "Ceasefire Monitoring Mission, team South"},
}
