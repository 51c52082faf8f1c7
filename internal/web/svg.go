package web

import (
	"fmt"
	"strings"

	"parley/internal/state"
)

// The drawings are laid out here, in numbers, and drawn by the templates as
// inline SVG: no script, no inline style; classes (static/pages.css) say
// what is delivered, ready or blocked, and presentation attributes keep the
// drawing legible without the stylesheet.

// A Box is a named rectangle of a drawing, with up to two lines of text.
type Box struct {
	X, Y, W, H int
	// Text is the first line; Full is the whole name, for its tooltip.
	Text, Full string
	Sub        string
	Class      string
	// TextX, TextY and SubY place the lines.
	TextX, TextY, SubY int
}

// An Arrow is an edge of a drawing, with a label above and below it.
type Arrow struct {
	// D is the SVG path.
	D     string
	Class string
	// Dashed is "6 4" for an edge not yet travelled, "" otherwise.
	Dashed       string
	Label, Below string
	LabelX       int
	LabelY       int
	BelowY       int
	Title        string
}

// RouteDrawing is a message's route laid out left to right: sender,
// carriers, recipient, an arrow for each hop.
type RouteDrawing struct {
	// ID is unique on the page; the arrowhead marker is named by it.
	ID            string
	Width, Height int
	Label         string
	Class         string
	Boxes         []Box
	Arrows        []Arrow
	// Legs are the hops as text, for the list beside the drawing.
	Legs []Leg
}

// A Leg is one step of a route: from, to, and what was recorded of it.
type Leg struct {
	From, To state.Ref
	Events   []state.HopRow
	// Back is true for an acknowledgement, which goes back along the route.
	Back bool
}

// Dimensions of a route drawing.
const (
	routeBoxW = 170
	routeBoxH = 44
	routeGap  = 150
	routeTop  = 26
	routeEdge = 10
)

// drawRoute lays out message n's route.
func drawRoute(n int, m state.RouteRow) RouteDrawing {
	route := append(append([]state.Ref{m.From}, m.Via...), m.To)
	d := RouteDrawing{ID: fmt.Sprintf("route-%d", n), Class: "route undelivered"}
	if m.Delivered {
		d.Class = "route delivered"
	}
	at := func(i int) int { return routeEdge + i*(routeBoxW+routeGap) }
	for i, r := range route {
		b := Box{X: at(i), Y: routeTop, W: routeBoxW, H: routeBoxH, Text: cutName(r.String(), 22), Full: r.String(), Class: "box"}
		switch {
		case i == 0:
			b.Class += " box-sender"
			b.Sub = "sender"
		case i == len(route)-1:
			b.Class += " box-recipient"
			b.Sub = "recipient"
			if m.Delivered {
				b.Class += " delivered"
				b.Sub = "recipient · delivered"
			}
		default:
			b.Class += " box-carrier"
			b.Sub = "carrier"
		}
		b.TextX, b.TextY, b.SubY = b.X+b.W/2, b.Y+19, b.Y+35
		d.Boxes = append(d.Boxes, b)
	}
	mid := routeTop + routeBoxH/2
	var acks []state.HopRow
	for i := 0; i+1 < len(route); i++ {
		leg := Leg{From: route[i], To: route[i+1]}
		for _, h := range m.Hops {
			if h.Event != "acknowledged" && h.From.Key == route[i].Key && h.To.Key == route[i+1].Key {
				leg.Events = append(leg.Events, h)
			}
		}
		x1, x2 := at(i)+routeBoxW, at(i+1)
		a := Arrow{D: fmt.Sprintf("M%d %d H%d", x1, mid, x2-2), LabelX: (x1 + x2) / 2, LabelY: mid - 8, BelowY: mid + 17}
		if len(leg.Events) == 0 {
			a.Class, a.Dashed, a.Label, a.Below = "hop hop-open", "6 4", "not recorded", ""
		} else {
			last := leg.Events[len(leg.Events)-1]
			a.Class, a.Label, a.Below = "hop hop-done hop-"+last.Event, last.Event, hopMinute(last)
		}
		a.Title = fmt.Sprintf("%s → %s: %s", route[i], route[i+1], a.Label)
		d.Arrows = append(d.Arrows, a)
		d.Legs = append(d.Legs, leg)
	}
	for _, h := range m.Hops {
		if h.Event == "acknowledged" {
			acks = append(acks, h)
		}
	}
	d.Height = routeTop + routeBoxH + 24
	index := func(key string) int {
		for i, r := range route {
			if r.Key == key {
				return i
			}
		}
		return -1
	}
	for k, h := range acks {
		i, j := index(h.From.Key), index(h.To.Key)
		if i < 0 || j < 0 {
			continue
		}
		y := routeTop + routeBoxH + 18 + k*30
		x1, x2 := at(i)+routeBoxW/2, at(j)+routeBoxW/2+4
		d.Arrows = append(d.Arrows, Arrow{D: fmt.Sprintf("M%d %d V%d H%d V%d", x1, routeTop+routeBoxH, y, x2, routeTop+routeBoxH+2),
			Class: "hop hop-done hop-acknowledged", Label: "", Below: "acknowledged " + hopMinute(h),
			LabelX: (x1 + x2) / 2, BelowY: y + 14, Title: fmt.Sprintf("%s → %s: acknowledged", h.From, h.To)})
		d.Legs = append(d.Legs, Leg{From: h.From, To: h.To, Events: []state.HopRow{h}, Back: true})
		d.Height = y + 24
	}
	d.Width = at(len(route)-1) + routeBoxW + routeEdge
	names := make([]string, len(route))
	for i, r := range route {
		names[i] = r.String()
	}
	status := "not delivered"
	if m.Delivered {
		status = "delivered"
	}
	d.Label = fmt.Sprintf("Route of the message %s: %s; %s", m.Message, strings.Join(names, " → "), status)
	return d
}

func hopMinute(h state.HopRow) string { return h.Time.UTC().Format("2006-01-02 15:04") }

// cutName cuts s to n characters, marking the cut.
func cutName(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// GraphDrawing is the pending actions and what they wait on, in layers:
// an action stands to the right of everything it waits on.
type GraphDrawing struct {
	Width, Height int
	Label         string
	Nodes         []Box
	Edges         []Arrow
}

// Dimensions of the dependency graph.
const (
	nodeW     = 240
	nodeH     = 50
	nodeGapX  = 90
	nodeGapY  = 22
	graphEdge = 10
)

// graphNode is an action or what one waits on.
type graphNode struct {
	ref     state.Ref
	status  string
	ready   bool
	done    bool
	pending bool     // an open action, not only a blocker
	waits   []string // keys of what it waits on
	layer   int
	row     int
}

// drawPending lays the pending actions out, layered by longest path.
func drawPending(actions []state.PendingRow) GraphDrawing {
	var order []string
	nodes := map[string]*graphNode{}
	for _, a := range actions {
		n := &graphNode{ref: a.Action, status: a.Status, ready: a.Ready, pending: true}
		for _, w := range a.Waits {
			n.waits = append(n.waits, w.On.Key)
		}
		if old, ok := nodes[a.Action.Key]; ok {
			*old = *n
			continue
		}
		nodes[a.Action.Key] = n
		order = append(order, a.Action.Key)
	}
	for _, a := range actions {
		for _, w := range a.Waits {
			if _, ok := nodes[w.On.Key]; !ok {
				nodes[w.On.Key] = &graphNode{ref: w.On, status: w.Status, done: w.Done}
				order = append(order, w.On.Key)
			}
		}
	}
	// Longest path from what waits on nothing; a cycle (which the record
	// should not hold) is cut where it closes.
	const (
		unseen = iota
		visiting
		placed
	)
	mark := map[string]int{}
	var place func(key string) int
	place = func(key string) int {
		n := nodes[key]
		switch mark[key] {
		case placed:
			return n.layer
		case visiting:
			return -1
		}
		mark[key] = visiting
		n.layer = 0
		for _, w := range n.waits {
			if l := place(w); l+1 > n.layer {
				n.layer = l + 1
			}
		}
		mark[key] = placed
		return n.layer
	}
	rows := map[int]int{}
	layers, most := 0, 0
	for _, k := range order {
		place(k)
	}
	for _, k := range order {
		n := nodes[k]
		n.row = rows[n.layer]
		rows[n.layer]++
		layers = max(layers, n.layer+1)
		most = max(most, rows[n.layer])
	}
	g := GraphDrawing{Width: 2*graphEdge + layers*nodeW + max(layers-1, 0)*nodeGapX, Height: 2*graphEdge + most*nodeH + max(most-1, 0)*nodeGapY}
	pos := func(n *graphNode) (int, int) {
		return graphEdge + n.layer*(nodeW+nodeGapX), graphEdge + n.row*(nodeH+nodeGapY)
	}
	for _, k := range order {
		n := nodes[k]
		x, y := pos(n)
		b := Box{X: x, Y: y, W: nodeW, H: nodeH, Text: cutName(n.ref.String(), 30), Full: n.ref.String(), Sub: n.status, Class: "node status-" + classWord(n.status)}
		switch {
		case n.ready:
			b.Class += " ready"
			b.Sub += " · ready now"
		case n.done:
			b.Class += " done"
		}
		if n.pending {
			b.Class += " open"
		} else {
			b.Class += " blocker"
		}
		b.TextX, b.TextY, b.SubY = x+nodeW/2, y+21, y+38
		g.Nodes = append(g.Nodes, b)
	}
	for _, k := range order {
		n := nodes[k]
		for _, w := range n.waits {
			from := nodes[w]
			x1, y1 := pos(from)
			x2, y2 := pos(n)
			x1 += nodeW
			y1 += nodeH / 2
			y2 += nodeH / 2
			x2 -= 2
			c := (x2 - x1) / 2
			e := Arrow{D: fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x1, y1, x1+c, y1, x2-c, y2, x2, y2), Class: "edge",
				Title: fmt.Sprintf("%s waits on %s (%s)", n.ref, from.ref, from.status)}
			if !from.done {
				e.Class += " edge-open"
			}
			g.Edges = append(g.Edges, e)
		}
	}
	g.Label = fmt.Sprintf("Dependency graph of %d pending actions", len(actions))
	return g
}

// classWord makes a status usable in a class name.
func classWord(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
}
