package server

// A route is one endpoint: its pattern, who may use it, and its handler.
type route struct {
	pattern string
	access  access
	handle  handler
	summary string
}

// routes lists every endpoint: the whole surface of the server in one
// screen. The OpenAPI document (openapi.json) describes the same list, and
// a test holds the two together.
func (s *Server) routes() []route {
	return []route{
		{"GET /healthz", public, s.healthz, "the process is up"},
		{"GET /readyz", public, s.readyz, "the record is open and answering"},
		{"GET /metrics", admin, s.serveMetrics, "Prometheus metrics"},

		// The log in the C2SP tlog-tiles layout, for generic tools.
		{"GET /checkpoint", read, s.tileCheckpoint, "the latest signed checkpoint (C2SP tlog-checkpoint)"},
		{"GET /tile/{level}/{path...}", read, s.tile, "a Merkle tree tile or an entry bundle (C2SP tlog-tiles)"},

		{"GET /api/v1/openapi.json", public, s.openapi, "this API, described"},
		{"GET /api/v1/problems/{kind}", public, s.describeProblem, "what a problem type means"},

		// The log.
		{"GET /api/v1/entries", read, s.listEntries, "entries from..to (at most 1000)"},
		{"GET /api/v1/entries/{index}", read, s.getEntry, "one entry"},
		{"POST /api/v1/entries", write, s.appendEntry, "append one signed entry"},
		{"POST /api/v1/batches", write, s.appendBatch, "append signed entries, all or nothing"},
		{"GET /api/v1/checkpoint", read, s.latestCheckpoint, "the latest checkpoint"},
		{"GET /api/v1/checkpoints", read, s.listCheckpoints, "checkpoints with from <= size <= to"},
		{"GET /api/v1/proofs/inclusion", read, s.inclusionProof, "prove entry index is in the tree of size"},
		{"GET /api/v1/proofs/consistency", read, s.consistencyProof, "prove the tree of from is a prefix of the tree of to"},
		{"GET /api/v1/bundle", read, s.bundle, "the whole record as a bundle, streamed"},
		{"GET /api/v1/feed", read, s.feed, "new entries as Server-Sent Events"},
		{"GET /api/v1/types", read, s.types, "the entry types the record accepts"},
		{"GET /api/v1/keys", read, s.listKeys, "the registered author keys"},
		{"GET /api/v1/entities", read, s.listEntities, "the entities of a kind, by name, to pick from"},

		// The questions.
		{"GET /api/v1/ask/{question}", read, s.ask, "ask a question of the record"},
		{"GET /api/v1/reports/daily", read, s.dailyReport, "the daily report of a day's incidents under an agreement"},

		// Signing in, and one's own account.
		{"POST /api/v1/session", public, s.signIn, "sign in with a name and password"},
		{"GET /api/v1/session", signedIn, s.getSession, "the current session and its CSRF token"},
		{"DELETE /api/v1/session", signedIn, s.signOut, "sign out"},
		{"GET /api/v1/account", signedIn, s.me, "one's own account, keys and tokens"},
		{"PUT /api/v1/account/password", signedIn, s.changePassword, "change one's password"},
		{"PUT /api/v1/account/recipient", signedIn, s.setRecipient, "register one's age recipient, for confidential channels"},
		{"POST /api/v1/account/keys", signedIn, s.registerKey, "register a signing key for one's account"},
		{"POST /api/v1/account/tokens", signedIn, s.newToken, "make an API token"},
		{"GET /api/v1/account/tokens", signedIn, s.listTokens, "list one's API tokens"},
		{"DELETE /api/v1/account/tokens/{id}", signedIn, s.revokeToken, "revoke one of one's API tokens"},

		// Confidential channels: only members see a channel or its entries
		// (anyone else gets 404); the public log holds a commitment to each.
		{"POST /api/v1/channels", write, s.createChannel, "create a confidential channel"},
		{"GET /api/v1/channels", signedIn, s.listChannels, "the channels one is a member of"},
		{"GET /api/v1/channels/{id}", signedIn, s.getChannel, "a channel: members, their recipients, its epoch"},
		{"POST /api/v1/channels/{id}/members", signedIn, s.addMember, "add a member"},
		{"DELETE /api/v1/channels/{id}/members/{account}", signedIn, s.removeMember, "remove a member: the channel's key rotates"},
		{"POST /api/v1/channels/{id}/entries", signedIn, s.postSealed, "post an encrypted entry; its commitment goes on the public log"},
		{"GET /api/v1/channels/{id}/entries", signedIn, s.listSealed, "a channel's encrypted entries"},
		{"GET /api/v1/channels/{id}/entries/{index}", signedIn, s.getSealed, "one encrypted entry"},

		// Evidence: files kept by SHA-256, which incident reports name.
		{evidenceUpload, write, s.postEvidence, "store a file (the raw body); 201 if new, 200 if already stored"},
		{"GET /api/v1/evidence/{sha256}", read, s.getEvidence, "a stored file"},
		{"GET /api/v1/evidence/{sha256}/meta", read, s.evidenceMeta, "a stored file's size, types and uploads"},

		// Administration.
		{"GET /api/v1/accounts", admin, s.listAccounts, "every account"},
		{"POST /api/v1/accounts", admin, s.createAccount, "create an account"},
		{"PATCH /api/v1/accounts/{name}", admin, s.updateAccount, "change an account's role, party or disabled flag"},
		{"DELETE /api/v1/keys/{id}", signedIn, s.revokeKey, "revoke a signing key (its holder, or an admin)"},
	}
}

// pages lists the web UI's pages: HTML, for people. They sit beside the
// API, guarded the same way; a refusal is a page (or, for a page that needs
// a sign-in, a redirect to the sign-in form).
func (s *Server) pages() []route {
	return []route{
		{"GET /{$}", read, s.web.Overview, "the state of the talks at a glance"},
		{"GET /timeline", read, s.web.Timeline, "everything in order, with the as-of and known-at controls"},
		{"GET /statements", read, s.web.Statements, "who said what, filtered"},
		{"GET /routes", read, s.web.Routes, "each message's relay chain, drawn"},
		{"GET /pending", read, s.web.Dependencies, "pending actions and their blockers, drawn"},
		{"GET /e/{kind}/{id}", read, s.web.Entity, "an actor, party, proposal, meeting, message, action or track, with its history"},
		{"GET /ceasefire", read, s.web.Ceasefire, "an agreement's compliance: per party, per day, drawn"},
		{"GET /ceasefire/daily", read, s.web.Daily, "the daily report of a day's incidents, to read or print"},
		{"GET /ceasefire/map", read, s.web.Map, "the map of a day's incidents, by status"},
		{"GET /entries/{index}", read, s.web.Entry, "an entry, its signature and its inclusion proof, checkable in the browser"},
		{"GET /add", write, s.web.AddIndex, "the kinds of entry one may add"},
		{"GET /add/{type}", write, s.web.AddForm, "a form to add an entry, signed in the browser"},
		{"GET /signin", public, s.signInPage, "the sign-in form"},
		{"POST /signin", public, s.signInForm, "sign in from the form"},
		{"POST /signout", signedIn, s.signOutForm, "sign out from the page"},
		{"GET /account", signedIn, s.web.Account, "one's account: keys, tokens"},
		{"GET /admin", admin, s.web.Admin, "people, roles, channels"},
		{"GET /channels", signedIn, s.web.Channels, "one's confidential channels"},
		{"GET /channels/{id}", signedIn, s.web.Channel, "a channel, for its members (404 for anyone else)"},
		{"GET /static/{file...}", public, s.static, "the stylesheet and scripts"},
	}
}
