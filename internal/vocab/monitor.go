package vocab

import (
	"fmt"
	"slices"
	"strings"
)

// A Category is a kind of ceasefire violation as monitors count it, with
// where it falls in the OSCE Special Monitoring Mission's daily counts and
// in ACLED's event types, and how PLOVER and CAMEO code it.
type Category struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	// OSCE is the SMM counting category: explosion (impact, airburst or
	// undetermined), projectile in flight, muzzle flash, illumination
	// flare, bursts and shots; empty where the SMM did not count it.
	OSCE string `json:"osce,omitempty"`
	// Event and SubEvent are ACLED's event type and sub-event type.
	Event    string `json:"acled_event"`
	SubEvent string `json:"acled_sub_event"`
	// Mode is the PLOVER mode of the FIGHT event; CAMEO the code of the
	// fighting itself (a violation of a ceasefire in force is CAMEO 196).
	Mode  string `json:"plover_mode,omitempty"`
	CAMEO string `json:"cameo"`
}

// ACLED's event and sub-event types that incidents use.
const (
	acledBattles    = "Battles"
	acledRemote     = "Explosions/Remote violence"
	acledStrategic  = "Strategic developments"
	acledClash      = "Armed clash"
	acledShelling   = "Shelling/artillery/missile attack"
	acledAirDrone   = "Air/drone strike"
	acledRemoteIED  = "Remote explosive/landmine/IED"
	acledOther      = "Other"
	osceExplosion   = "explosion"
	osceImpact      = "explosion (impact)"
	osceAirburst    = "explosion (airburst)"
	osceUndeterm    = "explosion (undetermined)"
	osceProjectile  = "projectile in flight"
	osceMuzzleFlash = "muzzle flash"
	osceFlare       = "illumination flare"
	osceBursts      = "bursts and shots"
)

// Categories are the kinds of incident a report may name, in the order
// reports list them.
var Categories = []Category{
	{"shelling", "Shelling / artillery fire", osceExplosion, acledRemote, acledShelling, "artillery", "194"},
	{"explosion-impact", "Explosion (impact)", osceImpact, acledRemote, acledShelling, "artillery", "194"},
	{"explosion-airburst", "Explosion (airburst)", osceAirburst, acledRemote, acledShelling, "artillery", "194"},
	{"explosion-undetermined", "Explosion (undetermined)", osceUndeterm, acledRemote, acledShelling, "artillery", "194"},
	{"projectile", "Projectile in flight", osceProjectile, acledRemote, acledShelling, "artillery", "194"},
	{"muzzle-flash", "Muzzle flash", osceMuzzleFlash, acledBattles, acledClash, "artillery", "194"},
	{"illumination-flare", "Illumination flare", osceFlare, acledStrategic, acledOther, "", "190"},
	{"small-arms", "Small-arms fire (bursts and shots)", osceBursts, acledBattles, acledClash, "small-arms", "193"},
	{"ground-assault", "Ground assault", osceBursts, acledBattles, acledClash, "small-arms", "190"},
	{"drone-strike", "Drone strike", osceExplosion, acledRemote, acledAirDrone, "drone", "1952"},
	{"missile-strike", "Missile strike", osceExplosion, acledRemote, acledShelling, "aerial", "195"},
	{"air-strike", "Air strike", osceExplosion, acledRemote, acledAirDrone, "aerial", "195"},
	{"energy-strike", "Strike on energy infrastructure", osceExplosion, acledRemote, acledAirDrone, "aerial", "195"},
	{"maritime-attack", "Maritime attack", "", acledRemote, acledShelling, "naval", "190"},
	{"landmine", "Mine or improvised explosive", osceUndeterm, acledRemote, acledRemoteIED, "", "190"},
	{"other", "Other violation", "", acledStrategic, acledOther, "", "190"},
}

// CategoryIDs lists the ids of Categories.
var CategoryIDs = func() []string {
	out := make([]string, len(Categories))
	for i, c := range Categories {
		out[i] = c.ID
	}
	return out
}()

// CategoryOf returns the category with the id.
func CategoryOf(id string) (Category, bool) {
	i := slices.IndexFunc(Categories, func(c Category) bool { return c.ID == id })
	if i < 0 {
		return Category{}, false
	}
	return Categories[i], true
}

// The statuses of an incident in the verification workflow: reported, then
// under review, then verified, unverified, disputed or rejected (and under
// review again if reopened); or a duplicate of another incident (and under
// review again if it was not one after all).
const (
	Reported    = "reported"
	UnderReview = "under-review"
	Verified    = "verified"
	Unverified  = "unverified"
	Disputed    = "disputed"
	Rejected    = "rejected"
	Duplicate   = "duplicate"
)

// IncidentStatuses lists the statuses in the workflow's order.
var IncidentStatuses = []string{Reported, UnderReview, Verified, Unverified, Disputed, Rejected, Duplicate}

// ReviewStatuses are the statuses a review may set.
var ReviewStatuses = []string{UnderReview, Verified, Unverified, Disputed, Rejected}

// NextStatuses says where a review may take an incident from each status.
var NextStatuses = map[string][]string{
	Reported:    {UnderReview},
	UnderReview: {Verified, Unverified, Disputed, Rejected},
	Verified:    {UnderReview},
	Unverified:  {UnderReview},
	Disputed:    {UnderReview},
	Rejected:    {UnderReview},
	Duplicate:   {UnderReview},
}

// Precisions say how exactly an incident's coordinates place it, as ACLED's
// geo_precision does: 1 the place itself, 2 near it, 3 only the region.
var Precisions = []string{"exact", "near", "region"}

// PrecisionCode is ACLED's geo_precision for a precision, and back.
func PrecisionCode(p string) int { return slices.Index(Precisions, p) + 1 }

// Evidence is a file an incident report or review rests on: stored by the
// server content-addressed, named in the log by its SHA-256.
type Evidence struct {
	SHA256 string `json:"sha256"`
	Name   string `json:"name,omitempty"`
	Type   string `json:"type,omitempty"`
	Size   int64  `json:"size,omitempty"`
}

// checkEvidence checks each item's hash.
func checkEvidence(field string, ev []Evidence) error {
	for i, e := range ev {
		if !isSHA256(e.SHA256) {
			return invalid("%q: %q is not a SHA-256 hash (64 lower-case hex digits)", fmt.Sprintf("%s/%d/sha256", field, i), e.SHA256)
		}
		if e.Size < 0 {
			return invalid("%q is %d; a size is not negative", fmt.Sprintf("%s/%d/size", field, i), e.Size)
		}
	}
	return nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}

// Unattributed is the party key of incidents alleged against nobody.
const Unattributed = "unattributed"

// AllCategories is the category of a tally that counts each incident once,
// whatever its categories.
const AllCategories = "*"

// TallyKey is the subject of an incident's tally facts: agreement, party
// and category, which package state reads back with SplitTallyKey.
func TallyKey(agreement, party, category string) string {
	return agreement + "|" + party + "|" + category
}

// SplitTallyKey splits a TallyKey.
func SplitTallyKey(k string) (agreement, party, category string) {
	agreement, rest, _ := strings.Cut(k, "|")
	party, category, _ = strings.Cut(rest, "|")
	return agreement, party, category
}

// An EvidenceRef is a file an entry names as evidence, and where in the
// body it names it.
type EvidenceRef struct {
	Where string
	Evidence
}

// EvidenceNamed lists the files a body names as evidence: a report's (its
// own and each incident's) and a review's.
func EvidenceNamed(b any) []EvidenceRef {
	var out []EvidenceRef
	add := func(where string, ev []Evidence) {
		for i, e := range ev {
			out = append(out, EvidenceRef{fmt.Sprintf("%s/%d/sha256", where, i), e})
		}
	}
	switch b := b.(type) {
	case *ReportBody:
		add("evidence", b.Evidence)
		for i, in := range b.Incidents {
			add(fmt.Sprintf("incidents/%d/evidence", i), in.Evidence)
		}
	case *ReviewBody:
		add("evidence", b.Evidence)
	}
	return out
}
