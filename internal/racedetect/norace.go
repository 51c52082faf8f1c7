//go:build !race

// Package racedetect says whether the binary was built with the race
// detector, so that slow tests can do fewer trials under its cost and build
// the programs they run the same way.
package racedetect

// Enabled is false: the binary was built without -race.
const Enabled = false
