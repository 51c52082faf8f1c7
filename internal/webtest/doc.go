// Package webtest tests the web UI in a real browser: each test starts the
// server on a loopback port over a fresh record holding the seed case, signs
// in through the real form in headless Chromium (driven with chromedp), and
// checks what the rendered page shows, what its scripts do, and that the
// browser reports no error (console, uncaught exception, CSP violation).
// Full-page screenshots of the main pages go to $PARLEY_ARTIFACTS.
//
// The package has tests and benchmarks only; this file holds its doc.
//
// Run it with
//
//	PARLEY_CHROMIUM=/usr/bin/chromium go test ./internal/webtest
//
// and the figures (page weight, first render in the browser, server render
// time; -render-record DIR measures a record of one's own) with
//
//	go test -run '^$' -bench . ./internal/webtest
package webtest
