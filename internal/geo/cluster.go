package geo

import (
	"cmp"
	"math"
	"slices"
)

// cluster is one marker on the map: a single incident, or several drawn as
// one circle because they lie too close together to tell apart.
type cluster struct {
	seedX, seedY float64 // the first point, which others must be near
	sumX, sumY   float64
	n            int
	counts       [len(styles)]int
	first        int // index of the first point, drawn alone if n == 1
}

// x and y are where the marker is drawn: the mean of its points.
func (c *cluster) x() float64 { return c.sumX / float64(c.n) }
func (c *cluster) y() float64 { return c.sumY / float64(c.n) }

// top is the index of the status of most weight in the cluster, which
// gives it its colour.
func (c *cluster) top() int {
	best := -1
	for i, n := range c.counts {
		if n > 0 && (best < 0 || styles[i].weight > styles[best].weight) {
			best = i
		}
	}
	return best
}

// placed is a point projected to the screen.
type placed struct {
	x, y   float64
	status int
	index  int // in the caller's slice
}

// clusterPoints groups points that lie within radius pixels of a cluster's
// first point (greedy leader clustering on a grid of radius-sized cells).
// Points are taken in screen order, left to right, so that the result does
// not depend on the order of the input. A radius <= 0 keeps every point
// apart.
func clusterPoints(pts []placed, radius float64) []*cluster {
	slices.SortFunc(pts, func(a, b placed) int {
		switch {
		case a.x != b.x:
			return cmp.Compare(a.x, b.x)
		case a.y != b.y:
			return cmp.Compare(a.y, b.y)
		case a.status != b.status:
			return a.status - b.status
		}
		return a.index - b.index
	})
	all := make([]cluster, len(pts)) // one allocation for every cluster
	out := make([]*cluster, 0, len(pts))
	if radius <= 0 {
		for i, p := range pts {
			c := &all[i]
			*c = cluster{seedX: p.x, seedY: p.y, sumX: p.x, sumY: p.y, n: 1, first: p.index}
			c.counts[p.status]++
			out = append(out, c)
		}
		return out
	}
	if len(pts) == 0 {
		return out
	}
	// The grid covers the points' bounding box; each cell lists the
	// clusters seeded in it, as a chain through next.
	x0, y0, x1, y1 := pts[0].x, pts[0].y, pts[0].x, pts[0].y
	for _, p := range pts {
		y0, y1 = min(y0, p.y), max(y1, p.y)
	}
	x1 = pts[len(pts)-1].x
	cols := int((x1-x0)/radius) + 1
	rows := int((y1-y0)/radius) + 1
	if cols*rows > 4*len(pts)+1024 {
		// Points spread far apart: a coarser grid is as good and smaller.
		f := math.Sqrt(float64(cols*rows) / float64(4*len(pts)+1024))
		radiusCells := radius * f
		return leader(pts, radius, radiusCells, x0, y0, int((x1-x0)/radiusCells)+1, int((y1-y0)/radiusCells)+1, all, out)
	}
	return leader(pts, radius, radius, x0, y0, cols, rows, all, out)
}

func leader(pts []placed, radius, cellSize, x0, y0 float64, cols, rows int, all []cluster, out []*cluster) []*cluster {
	head := make([]int32, cols*rows)
	for i := range head {
		head[i] = -1
	}
	next := make([]int32, len(pts))
	r2 := radius * radius
	for _, p := range pts {
		ci, cj := int((p.x-x0)/cellSize), int((p.y-y0)/cellSize)
		var best *cluster
		bd := r2
		for i := max(0, ci-1); i <= min(cols-1, ci+1); i++ {
			for j := max(0, cj-1); j <= min(rows-1, cj+1); j++ {
				for k := head[j*cols+i]; k >= 0; k = next[k] {
					c := out[k]
					dx, dy := p.x-c.seedX, p.y-c.seedY
					if d := dx*dx + dy*dy; d < bd {
						best, bd = c, d
					}
				}
			}
		}
		if best == nil {
			k := len(out)
			best = &all[k]
			*best = cluster{seedX: p.x, seedY: p.y, first: p.index}
			out = append(out, best)
			cell := cj*cols + ci
			next[k], head[cell] = head[cell], int32(k)
		}
		best.sumX += p.x
		best.sumY += p.y
		best.n++
		best.counts[p.status]++
	}
	return out
}

// markerRadius is the radius of a cluster's circle, or about that of a lone
// marker.
func markerRadius(c *cluster) float64 {
	if c.n == 1 {
		return 6
	}
	return clusterRadius(c.n)
}

// clusterRadius grows with the logarithm of the count, so that a cluster of
// hundreds does not cover the map.
func clusterRadius(n int) float64 {
	return min(26, 7+2.5*math.Log2(float64(n)))
}

// mergeOverlapping merges clusters whose circles would overlap by more than
// a quarter of their radii, the larger absorbing the smaller, until none
// do, so that dense areas read as a few counts rather than a heap of
// circles. Counts are kept; a merged cluster is drawn at the mean of all its
// points.
func mergeOverlapping(cs []*cluster) []*cluster {
	const maxR = 26
	for range 16 {
		if len(cs) < 2 {
			return cs
		}
		slices.SortFunc(cs, func(a, b *cluster) int {
			if a.n != b.n {
				return b.n - a.n
			}
			return cmp.Or(cmp.Compare(a.x(), b.x()), cmp.Compare(a.y(), b.y()))
		})
		x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, c := range cs {
			x0, x1 = min(x0, c.x()), max(x1, c.x())
			y0, y1 = min(y0, c.y()), max(y1, c.y())
		}
		const cell = 2 * maxR
		cols, rows := int((x1-x0)/cell)+1, int((y1-y0)/cell)+1
		head := make([]int32, cols*rows)
		for i := range head {
			head[i] = -1
		}
		next := make([]int32, len(cs))
		cellOf := func(c *cluster) (int, int) { return int((c.x() - x0) / cell), int((c.y() - y0) / cell) }
		for k, c := range cs {
			i, j := cellOf(c)
			next[k], head[j*cols+i] = head[j*cols+i], int32(k)
		}
		merged := false
		for k, a := range cs {
			if a.n == 0 {
				continue
			}
			ci, cj := cellOf(a)
			for i := max(0, ci-1); i <= min(cols-1, ci+1); i++ {
				for j := max(0, cj-1); j <= min(rows-1, cj+1); j++ {
					for o := head[j*cols+i]; o >= 0; o = next[o] {
						b := cs[o]
						if int(o) == k || b.n == 0 || b.n > a.n || b.n == a.n && int(o) < k {
							continue
						}
						dx, dy := a.x()-b.x(), a.y()-b.y()
						if lim := 0.75 * (markerRadius(a) + markerRadius(b)); dx*dx+dy*dy < lim*lim {
							a.sumX += b.sumX
							a.sumY += b.sumY
							a.n += b.n
							for s, n := range b.counts {
								a.counts[s] += n
							}
							b.n = 0
							merged = true
						}
					}
				}
			}
		}
		live := cs[:0]
		for _, c := range cs {
			if c.n > 0 {
				live = append(live, c)
			}
		}
		cs = live
		if !merged {
			break
		}
	}
	return cs
}
