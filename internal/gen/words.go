package gen

// The words the synthetic negotiation is made of. Names are invented; the
// phrasing follows the press reports the vocabulary was built around.

var partyNames = []string{
	"Aldoria", "Borvania", "Caldera", "Dravia", "Estmark", "Ferrania", "Galicea", "Hestria",
	"Istrava", "Jorvik", "Kalmoria", "Lutania", "Moravel", "Norrland", "Ostravia", "Pelagia",
	"Quarnia", "Rovenia", "Savonia", "Tarvia", "Ulmeria", "Valdora", "Westmark", "Zelanor",
}

var mediatorNames = []string{
	"United Federation", "Northern League", "Maritime Union", "Council of Lakes", "Commonwealth of Isles",
	"Eastern Compact", "Southern Alliance", "Concord of Nations",
}

var firstNames = []string{
	"Anton", "Beatrix", "Casimir", "Dalia", "Emil", "Freya", "Gustav", "Helena", "Igor", "Jana",
	"Karel", "Lena", "Marek", "Nadia", "Oskar", "Petra", "Radu", "Sofia", "Tomas", "Ulla",
	"Viktor", "Wanda", "Yuri", "Zora", "Adrian", "Bogdan", "Clara", "Dmitar", "Elin", "Filip",
	"Greta", "Henrik", "Irena", "Jakob", "Katja", "Leon", "Mila", "Niko", "Olga", "Pavel",
}

var lastNames = []string{
	"Albescu", "Brandt", "Cervenka", "Dragomir", "Eklund", "Falk", "Grigorescu", "Horvath", "Ivanic",
	"Jansen", "Kovalenko", "Lindqvist", "Marin", "Novak", "Olsen", "Petrov", "Quist", "Radev",
	"Sandor", "Tamm", "Urbanek", "Varga", "Weber", "Yilmaz", "Zeman", "Antonescu", "Bauer", "Csaki",
	"Dobrev", "Engel", "Fischer", "Galan", "Hasek", "Ilves", "Juric", "Kask", "Lazar", "Moller",
	"Nemeth", "Orban", "Popa", "Rusu", "Stoica", "Toth", "Ungur", "Vasile", "Wolf", "Zaric",
}

// Titles a side's people hold, and a mediator's.
var sideTitles = []string{
	"President", "Prime Minister", "Foreign Minister", "Defence Minister", "presidential spokesperson",
	"chief negotiator", "head of the presidential office", "deputy foreign minister", "national security adviser",
	"ambassador to the talks",
}

var mediatorTitles = []string{
	"Special Envoy", "Secretary of State", "chief mediator", "deputy envoy", "national security adviser",
	"spokesperson of the mediation", "head of the monitoring mission", "envoy for humanitarian affairs",
}

var organisations = []string{
	"Committee of the Red Crescent", "Joint Monitoring Mission", "International Grain Board",
	"Office for Humanitarian Access", "Council of Guarantors", "Mine Action Service",
}

var places = []string{
	"Geneva", "Istanbul", "Vienna", "Doha", "Riyadh", "Oslo", "Helsinki", "Minsk", "Baku", "Astana",
	"Jeddah", "Abu Dhabi", "Valletta", "Ljubljana", "Reykjavik", "Tirana", "Nicosia", "Bern",
}

var outlets = []string{
	"Meridian Wire", "Daily Courier", "Evening Herald", "Radio Free Meridian", "State News Agency",
	"Foreign Ministry briefing", "Northern Broadcasting", "Capital Gazette", "Global Affairs Weekly",
}

var hosts = []string{"news.example.org", "wire.example.com", "herald.example.net", "gazette.example.org"}

// topics are what proposals, statements and messages are about.
var topics = []string{
	"a 30-day ceasefire", "a ceasefire on energy infrastructure", "an exchange of prisoners",
	"humanitarian corridors", "the withdrawal of heavy weapons", "monitoring mechanisms",
	"the safety of grain shipments", "the next round of talks", "the return of deported children",
	"a demilitarised zone", "the release of detained journalists", "a moratorium on drone strikes",
	"the reopening of border crossings", "the repair of the power line", "security guarantees",
	"sanctions relief", "the status of the occupied districts", "a summit of leaders",
	"an observer mission", "the exchange of the dead", "a maritime ceasefire", "restoring rail links",
}

var proposalKinds = []struct{ name, subject string }{
	{"%d-day ceasefire", "ceasefire"}, {"energy truce", "ceasefire"}, {"maritime ceasefire", "ceasefire"},
	{"framework for direct talks", "talks"}, {"roadmap to a summit", "talks"}, {"humanitarian aid package", "aid"},
	{"reconstruction fund", "aid"}, {"prisoner exchange", "exchange"}, {"exchange of the dead", "exchange"},
	{"border crossing plan", "other"}, {"monitoring arrangement", "other"},
}

var terms = []string{
	"a halt to all strikes on energy infrastructure", "an exchange of prisoners on an all-for-all basis",
	"international monitoring of the line of contact", "the withdrawal of heavy artillery 15 km from the line",
	"a halt to mobilisation during the ceasefire", "safe passage for grain ships", "a joint verification commission",
	"the opening of two humanitarian corridors", "no rearmament during the ceasefire", "a review after 30 days",
	"the return of civilians detained since the war began", "a hotline between the two general staffs",
	"guarantees from the mediators", "an end to drone strikes on cities", "free access for the Red Crescent",
}

var conditions = []string{
	"a halt to arms deliveries during the ceasefire", "international monitors on the line of contact",
	"recognition of the current line as a basis for talks", "the lifting of sanctions on grain exports",
	"the release of all prisoners first", "guarantees from the mediators", "a halt to mobilisation",
	"further discussions to ensure long-term peace", "the withdrawal of foreign troops",
	"a parliamentary vote before it takes effect", "no change to the status of the occupied districts",
	"the exclusion of a named envoy from the talks", "a verification mechanism agreed in advance",
	"a written text signed by both leaders", "a summit within 60 days",
}

var sayVerbs = []string{
	"said", "said", "said", "stated", "claimed", "told reporters", "wrote", "insisted", "denied",
	"warned", "welcomed", "accused", "rejected", "agreed", "urged", "demanded", "dismissed", "praised",
}

var quoteFrames = []string{
	"We are ready to discuss %s, but not at any price.",
	"There will be no agreement on %s without guarantees.",
	"The other side is dragging out %s so that the war goes on.",
	"Progress on %s has been good and productive.",
	"Nobody has formally proposed %s to us.",
	"We see this talk of %s as yet another round of manipulation.",
	"Our position on %s has not changed.",
	"It is too early to speak of %s; further discussions are necessary.",
	"We accept %s in principle, with conditions.",
	"%s is promising but not complete.",
}

var paraphraseFrames = []string{
	"the government is ready to discuss %s",
	"there is an understanding on both sides that %s is necessary",
	"the other side is using %s to stall progress",
	"the talks on %s were constructive",
	"no decision has been taken on %s",
	"%s will be raised at the next meeting",
	"the mediators have not yet presented a text on %s",
	"any agreement on %s must be verified",
}

var charges = []string{
	"delaying the process so that the war continues", "setting preconditions to stall progress",
	"shelling civilian areas during the truce", "violating the energy ceasefire", "bad faith in the talks",
	"leaking the content of confidential messages", "mistreating prisoners of war",
	"moving heavy weapons closer to the line", "blocking humanitarian convoys", "spreading disinformation about the talks",
}

var toneWords = map[string][]string{
	"positive": {"promising", "constructive", "good and productive", "a step forward", "serious", "encouraging"},
	"mixed":    {"promising", "not complete", "a start", "insufficient", "worth exploring", "vague"},
	"negative": {"unacceptable", "a delaying tactic", "empty", "a non-starter", "manipulative", "one-sided"},
}

var meetingWords = []string{
	"good and productive", "useful", "difficult but frank", "constructive", "a waste of time",
	"businesslike", "tense", "a step forward",
}

var messageKinds = []string{
	"additional information and signals", "a letter on %s", "a proposal on %s", "questions about %s",
	"a reply on %s", "assurances on %s", "a warning about %s", "an invitation to talks on %s",
}

var actionFrames = []struct{ kind, what string }{
	{"call", "Phone call between %s and %s"},
	{"visit", "Visit of %s to %s"},
	{"meeting", "Meeting of %s and %s on the draft text"},
	{"report", "%s reports to %s on the last round"},
	{"aid", "%s delivers the aid package agreed with %s"},
	{"other", "%s sends %s the draft of the joint statement"},
}

var retractReasons = []string{
	"the source withdrew the report", "misattributed: the speaker was someone else",
	"the statement was a hoax circulated online", "entered in error: a duplicate of another report",
	"the position was reported before it was taken and never confirmed",
}

var rosterNotes = []string{
	"attends as an observer", "absent from recent meetings; not removed", "takes part in the working group on prisoners",
	"replaces the previous envoy", "attends the plenary sessions only", "leads the delegation",
}

var trackKinds = []struct{ kind, subject string }{
	{"military-aid", "military aid"}, {"intelligence", "intelligence sharing"}, {"economic-aid", "economic aid"},
	{"diplomatic", "diplomatic relations"}, {"other", "energy supplies"},
}

// stanceWords are what a party's people say when it takes a stance on a
// proposal (%s is the proposal's name).
var stanceWords = map[string]struct {
	verbs                    []string
	quote, paraphrase, words string
}{
	"accepts": {[]string{"said", "agreed", "stated"},
		"We accept the %s without conditions.", "the government accepts the %s unconditionally", "without conditions"},
	"accepts-with-conditions": {[]string{"said", "stated", "insisted"},
		"We are ready to sign the %s, on conditions.", "the government will accept the %s once its conditions are met", "on conditions"},
	"accepts-in-principle": {[]string{"said", "claimed", "told reporters"},
		"We agree with the %s, but further discussions are necessary.", "the government agrees with the %s in principle", "in principle"},
	"counters": {[]string{"said", "stated", "wrote"},
		"The %s does not go far enough; we have put forward our own text.", "the government has answered the %s with a proposal of its own", "our own text"},
	"rejects": {[]string{"rejected", "dismissed", "said"},
		"The %s is unacceptable in its current form.", "the government will not accept the %s", "unacceptable"},
	"undecided": {[]string{"said", "told reporters", "stated"},
		"We are studying the %s and will answer in due course.", "no decision has been taken on the %s", "in due course"},
}
