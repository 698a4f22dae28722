package rootfs

import (
	"archive/tar"
	"path"
)

// Efficiency is how much of an image's layers is content its merged file
// system shows, as dive (github.com/wagoodman/dive) scores images, so
// that its users' CI thresholds mean the same here:
//
//   - every layer's leaf entries (files, symlinks, empty folders and
//     whiteouts, not the folders that hold other entries of the layer)
//     are occurrences of their path, each with a size: a regular file's
//     size, 0 for other entries, and for a whiteout that deletes a
//     folder, the bytes of the regular files it deletes;
//   - Score is the sum over paths of their smallest occurrence divided by
//     the sum of all occurrences (1 for no bytes at all): a file written
//     twice, or written and deleted, lowers it;
//   - WastedBytes is the sum of the occurrences of every path that occurs
//     more than once, the kept one included;
//   - UserWastedPercent is WastedBytes divided by UserBytes, the bytes of
//     regular files in the layers above the first (the base's first layer
//     is not the user's); a ratio from 0, despite its name, as dive's.
//
// An opaque marker (.wh..wh..opq) counts as a whiteout of its folder.
type Efficiency struct {
	Score             float64 `json:"score"`
	WastedBytes       int64   `json:"wasted_bytes"`
	UserWastedPercent float64 `json:"user_wasted_percent"`
	UserBytes         int64   `json:"user_bytes"`
}

// efficiency accumulates the occurrences of paths as Tree.Apply sees the
// entries.
type efficiency struct {
	current    int              // the layer being recorded
	layer      map[string]int64 // its entries by path, with their sizes
	paths      map[string]*occurrences
	layerBytes map[int]int64 // regular-file bytes by layer
}

type occurrences struct {
	n        int
	sum, min int64
}

func newEfficiency() *efficiency {
	return &efficiency{current: -1, layer: map[string]int64{}, paths: map[string]*occurrences{}, layerBytes: map[int]int64{}}
}

// record notes an entry of layer at p with size; entries of a new layer
// close the previous one.
func (e *efficiency) record(layer int, p string, size int64, regular bool) {
	if layer != e.current {
		e.flush()
		e.current = layer
	}
	e.layer[p] = size
	if regular {
		e.layerBytes[layer] += size
	}
}

// flush adds the current layer's leaves to the paths' occurrences.
func (e *efficiency) flush() {
	parents := map[string]bool{}
	for p := range e.layer {
		for d := path.Dir(p); d != "." && d != "/" && !parents[d]; d = path.Dir(d) {
			parents[d] = true
		}
	}
	for p, size := range e.layer {
		if parents[p] {
			continue
		}
		o := e.paths[p]
		if o == nil {
			o = &occurrences{min: size}
			e.paths[p] = o
		}
		o.n++
		o.sum += size
		o.min = min(o.min, size)
	}
	e.layer = map[string]int64{}
}

// result scores what has been recorded, the current layer included.
func (e *efficiency) result() Efficiency {
	c := e.clone()
	c.flush()
	var minimum, all int64
	var r Efficiency
	for _, o := range c.paths {
		minimum += o.min
		all += o.sum
		if o.n > 1 {
			r.WastedBytes += o.sum
		}
	}
	r.Score = 1
	if all > 0 {
		r.Score = float64(minimum) / float64(all)
	}
	for layer, b := range c.layerBytes {
		if layer > 0 {
			r.UserBytes += b
		}
	}
	if r.UserBytes > 0 {
		r.UserWastedPercent = float64(r.WastedBytes) / float64(r.UserBytes)
	}
	return r
}

func (e *efficiency) clone() *efficiency {
	c := &efficiency{current: e.current, layer: make(map[string]int64, len(e.layer)), paths: make(map[string]*occurrences, len(e.paths)), layerBytes: make(map[int]int64, len(e.layerBytes))}
	for k, v := range e.layer {
		c.layer[k] = v
	}
	for k, v := range e.paths {
		o := *v
		c.paths[k] = &o
	}
	for k, v := range e.layerBytes {
		c.layerBytes[k] = v
	}
	return c
}

// Efficiency scores the layers applied so far as dive does (see
// Efficiency).
func (t *Tree) Efficiency() Efficiency { return t.eff.result() }

// deletedBytes is what a whiteout of p deletes as dive sizes it: the
// regular files under a folder, nothing for anything else.
func (t *Tree) deletedBytes(p string) int64 {
	var n *node
	if p == "." {
		n = t.root
	} else if _, dir, err := t.resolve(path.Dir(p), true); err == nil && dir.Type == tar.TypeDir {
		n = dir.children[path.Base(p)]
	}
	if n == nil || n.Type != tar.TypeDir {
		return 0
	}
	var b int64
	walkNode(n, func(f *File) {
		if f.Type == tar.TypeReg {
			b += f.Size
		}
	})
	return b
}

// EfficiencyLimits are CI thresholds on an Efficiency, as dive's CI rules
// are: each is off when nil.
type EfficiencyLimits struct {
	// LowestEfficiency fails a Score below it (dive's
	// rules.lowestEfficiency, 0 to 1).
	LowestEfficiency *float64
	// HighestWastedBytes fails WastedBytes above it (dive's
	// rules.highestWastedBytes).
	HighestWastedBytes *int64
	// HighestUserWastedPercent fails a UserWastedPercent above it (dive's
	// rules.highestUserWastedPercent, a ratio from 0 to 1).
	HighestUserWastedPercent *float64
}

// LimitFailure is one threshold an image did not meet, named as dive
// names its rule.
type LimitFailure struct {
	Rule  string  `json:"rule"`
	Limit float64 `json:"limit"`
	Value float64 `json:"value"`
}

// Set reports whether any threshold is on.
func (l EfficiencyLimits) Set() bool {
	return l.LowestEfficiency != nil || l.HighestWastedBytes != nil || l.HighestUserWastedPercent != nil
}

// Check returns the thresholds e fails, in dive's order.
func (l EfficiencyLimits) Check(e Efficiency) []LimitFailure {
	var fs []LimitFailure
	if p := l.LowestEfficiency; p != nil && e.Score < *p {
		fs = append(fs, LimitFailure{Rule: "lowestEfficiency", Limit: *p, Value: e.Score})
	}
	if p := l.HighestWastedBytes; p != nil && e.WastedBytes > *p {
		fs = append(fs, LimitFailure{Rule: "highestWastedBytes", Limit: float64(*p), Value: float64(e.WastedBytes)})
	}
	if p := l.HighestUserWastedPercent; p != nil && e.UserWastedPercent > *p {
		fs = append(fs, LimitFailure{Rule: "highestUserWastedPercent", Limit: *p, Value: e.UserWastedPercent})
	}
	return fs
}
