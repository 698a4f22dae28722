// Package slim minimises a Lambda container image: it keeps only what the
// function needs (its entrypoint as Lambda runs it, the ELF dependency
// closure of every program kept, what one traced cold start and invocation
// opens, CA certificates, user and group names, and what the caller asks
// for) and writes them as one reproducible layer, or as one layer above
// the untouched base layers. Every layer is treated as hostile
// (internal/oci/rootfs); nothing from the image runs outside the sandbox.
package slim

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fnopt/fnopt/internal/oci/elfdeps"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/oci/rootfs"
	"github.com/fnopt/fnopt/verify"
)

// Options say how to minimise.
type Options struct {
	// Keep are paths kept whatever the analysis says (folders with
	// their content).
	Keep []string
	// Exclude are paths dropped whatever the analysis says: for trying
	// what happens without a file (the proof catches a needed one).
	Exclude []string
	// KeepBase is the number of bottom layers (the base image) kept
	// untouched; only the layers above are minimised. 0 writes one layer.
	KeepBase int
	// Event is the payload of the traced invocation (verify.DefaultEvent
	// when empty).
	Event []byte
	// NoTrace skips the traced run: static analysis only (benchmarks).
	NoTrace bool
	// Limits bound what the image may make us read (rootfs defaults).
	Limits rootfs.Limits
	// Created is the new image's creation time and every file's
	// modification time (zero: 1970-01-01 for files, 0001 in the config).
	Created time.Time
}

// Stats describe an image for the side-by-side report.
type Stats struct {
	Compressed   int64 `json:"compressed_bytes"`
	Uncompressed int64 `json:"uncompressed_bytes"`
	Layers       int   `json:"layers"`
	Files        int   `json:"files"`
	FileBytes    int64 `json:"file_bytes"`
	// WastedBytes are bytes of files that a later layer overwrites or
	// deletes: stored and downloaded, never seen (as dive counts them).
	WastedBytes int64 `json:"wasted_bytes"`
	WastedFiles int   `json:"wasted_files"`
	// Efficiency scores the layers as dive does (its score, wasted bytes
	// and user-wasted ratio; rootfs.Efficiency).
	Efficiency rootfs.Efficiency `json:"efficiency"`
}

// Result is a minimised image and how it was made. Close removes its
// working files (the image's layer lives there until then).
type Result struct {
	Image  v1.Image
	Kept   []Kept
	Before Stats
	After  Stats
	// Missing are libraries programs need that the image does not have
	// (the original would fail to load them too).
	Missing []string
	// Skipped are unsafe layer entries left out (at most 100;
	// SkippedCount has the total).
	Skipped      []Skipped
	SkippedCount int
	// Traced is the traced run of the original (nil with NoTrace).
	Traced *Traced
	// Excluded counts the kept paths Options.Exclude removed.
	Excluded int
	Notes    []string

	work string
}

// Close removes the working folder (flattened image and layer file).
func (r *Result) Close() error {
	if r == nil || r.work == "" {
		return nil
	}
	err := os.RemoveAll(r.work)
	r.work = ""
	return err
}

// ErrOriginalFails is wrapped when the original image does not answer the
// traced invocation: there is nothing to preserve.
var ErrOriginalFails = errors.New("the original image fails")

// KeepBaseError is returned when Options.KeepBase does not leave a layer
// to minimise.
type KeepBaseError struct {
	KeepBase, Layers int
}

func (e *KeepBaseError) Error() string {
	return fmt.Sprintf("keeping %d base layers: the image has %d layers; keep fewer than that", e.KeepBase, e.Layers)
}

// KeepError is returned when a path of Options.Keep cannot be kept (it is
// not in the image).
type KeepError struct {
	Path string
	Err  error
}

func (e *KeepError) Error() string { return fmt.Sprintf("keeping %s: %v", e.Path, e.Err) }
func (e *KeepError) Unwrap() error { return e.Err }

// Minimize makes the minimised image of img. The result must be closed.
func Minimize(ctx context.Context, img v1.Image, o Options) (res *Result, err error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the image configuration: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	if o.KeepBase < 0 || (o.KeepBase > 0 && o.KeepBase >= len(layers)) {
		return nil, &KeepBaseError{KeepBase: o.KeepBase, Layers: len(layers)}
	}
	work, err := os.MkdirTemp("", "fnopt-slim-")
	if err != nil {
		return nil, fmt.Errorf("creating a working folder: %w", err)
	}
	res = &Result{work: work}
	defer func() {
		if err != nil {
			// The return statement has already set res to nil.
			os.RemoveAll(work)
		}
	}()
	rootDir := filepath.Join(work, "root")
	if err := os.Mkdir(rootDir, 0o755); err != nil {
		return nil, err
	}

	// Flattening (for the traced run and the contents) and the metadata
	// pass (merged tree, wasted bytes) read the layers at the same time,
	// each layer fetched and decompressed once for both.
	counted, err := newCountedImage(img)
	if err != nil {
		return nil, err
	}
	tee, err := newTeeImage(counted, 2)
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	var inv *inventory
	var scanErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer tee.done(0)
		inv, scanErr = scanLayers(ctx, tee.pass(0), o.Limits, o.KeepBase)
	}()
	rep, flatErr := rootfs.Flatten(ctx, tee.pass(1), rootDir, o.Limits)
	tee.done(1)
	wg.Wait()
	if flatErr != nil {
		return nil, fmt.Errorf("flattening the image: %w", flatErr)
	}
	if scanErr != nil {
		return nil, fmt.Errorf("reading the layers: %w", scanErr)
	}
	res.Skipped, res.SkippedCount = rep.Skipped, int(rep.SkippedCount)
	if len(res.Skipped) > maxSkipped {
		res.Skipped = res.Skipped[:maxSkipped]
	}
	if res.Before, err = statsOf(img, counted, len(layers)); err != nil {
		return nil, err
	}
	res.Before.Files, res.Before.FileBytes = fileStats(inv.tree)
	res.Before.WastedBytes, res.Before.WastedFiles = inv.tree.Wasted()
	res.Before.Efficiency = inv.tree.Efficiency()

	root := elfdeps.NewRoot(rootDir)
	k := newKeeper(root, inv, cf)
	if err := k.entrypoint(cf); err != nil {
		return nil, err
	}
	if !o.NoTrace {
		event := o.Event
		if len(event) == 0 {
			event = []byte(verify.DefaultEvent)
		}
		tr, err := traceImage(ctx, rootDir, cf, event)
		if err != nil {
			return nil, err
		}
		if tr.Failure != "" {
			return nil, fmt.Errorf("%w its traced run: %s%s", ErrOriginalFails, tr.Failure, outputTail(tr.Output))
		}
		res.Traced = tr
		if err := k.traced(tr.Accesses); err != nil {
			return nil, err
		}
	}
	k.extras()
	for _, p := range o.Keep {
		if err := k.tree(path.Clean("/"+p), "--keep "+p); err != nil {
			return nil, &KeepError{Path: p, Err: err}
		}
	}
	if res.Missing, err = k.closure(); err != nil {
		return nil, err
	}
	for _, p := range o.Exclude {
		res.Excluded += k.exclude(p)
	}
	if res.Excluded > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("--exclude dropped %d paths the analysis kept", res.Excluded))
	}
	res.Kept = k.list()

	entries, after := plan(inv, res.Kept, o.KeepBase)
	lf, notes, err := writeLayer(filepath.Join(work, "layer.tar.gz"), rootDir, entries, fileTime(o.Created))
	if err != nil {
		return nil, err
	}
	res.Notes = append(res.Notes, notes...)
	if res.Image, err = assemble(img, cf, layers[:o.KeepBase], lf, o.Created); err != nil {
		return nil, err
	}
	in := image.Inspect(res.Image)
	if vs := in.Violations; len(vs) > 0 {
		var msgs []string
		for _, v := range vs {
			msgs = append(msgs, v.String())
		}
		return nil, fmt.Errorf("the minimised image fails the Lambda compliance check: %s", strings.Join(msgs, "; "))
	}
	if res.After, err = statsOf(res.Image, counted, o.KeepBase); err != nil {
		return nil, err
	}
	res.After.Uncompressed += lf.tarLen
	res.After.Files, res.After.FileBytes = after.Files, after.FileBytes
	res.After.WastedBytes, res.After.WastedFiles = after.WastedBytes, after.WastedFiles
	res.After.Efficiency = in.Efficiency
	return res, nil
}

func outputTail(out string) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return ""
	}
	if len(out) > 300 {
		out = "..." + out[len(out)-300:]
	}
	return " (output: " + strings.ReplaceAll(out, "\n", " | ") + ")"
}

func fileTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return t.UTC()
}

// statsOf measures img from its manifest; the uncompressed size of its
// first n layers is what the passes over the original counted (they are
// the original's, and a minimised image's others are ours).
func statsOf(img v1.Image, counted *countedImage, n int) (Stats, error) {
	m, err := img.Manifest()
	if err != nil {
		return Stats{}, fmt.Errorf("measuring the image: %w", err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return Stats{}, fmt.Errorf("measuring the image: %w", err)
	}
	s := Stats{Layers: len(m.Layers), Compressed: int64(len(raw)) + m.Config.Size}
	for _, d := range m.Layers {
		s.Compressed += d.Size
	}
	for i := range n {
		s.Uncompressed += counted.uncompressed(i)
	}
	return s, nil
}

// plan turns the kept paths into the new layer's entries. Without a base
// every kept path is written. With keepBase layers kept, paths the base
// already provides as they are stay out, and whiteouts remove what the
// base holds but the minimised layers deleted or replaced by something
// not kept. It also counts the files of the minimised image.
func plan(inv *inventory, kept []Kept, keepBase int) ([]layerEntry, Stats) {
	var entries []layerEntry
	var st Stats
	keptSet := map[string]bool{}
	for _, k := range kept {
		keptSet[k.Path] = true
	}
	for _, k := range kept {
		f, ok := inv.tree.Lookup(k.Path)
		if !ok {
			continue
		}
		fromBase := keepBase > 0 && f.Layer < keepBase && f.Layer >= 0
		if fromBase && f.Type != tar.TypeDir {
			continue // the base layers hold it, unchanged
		}
		entries = append(entries, layerEntry{path: k.Path, file: f})
		if f.Type == tar.TypeReg || f.Type == tar.TypeLink {
			st.Files++
			st.FileBytes += f.Size
		}
	}
	if keepBase == 0 {
		return entries, st
	}
	st.WastedBytes, st.WastedFiles = inv.base.Wasted()
	whited := map[string]bool{}
	underWhiteout := func(p string) bool {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if whited[d] {
				return true
			}
		}
		return false
	}
	inv.base.Walk("/", func(b rootfs.File) {
		p := b.Path
		if p == "/" || underWhiteout(p) {
			return // counted with the folder whited out
		}
		n, ok := inv.tree.Lookup(p)
		gone := !ok || (n.Layer >= keepBase && !keptSet[p] && n.Type != tar.TypeDir) ||
			(n.Type == tar.TypeDir) != (b.Type == tar.TypeDir)
		if gone {
			whited[p] = true
			countWaste(inv.base, p, &st)
			// A kept path of another type replaces the base's by being
			// written; a whiteout beside it would delete the new entry
			// too where a layer applies in order (Flatten, containerd).
			if !(ok && keptSet[p]) {
				entries = append(entries, layerEntry{path: p, whiteout: true})
			}
			return
		}
		if n.Layer < keepBase && (b.Type == tar.TypeReg || b.Type == tar.TypeLink) {
			st.Files++
			st.FileBytes += b.Size
		} else if b.Type == tar.TypeReg && keptSet[p] {
			st.WastedBytes += b.Size // replaced by the kept upper version
			st.WastedFiles++
		}
	})
	// A whiteout's folder must be listed in the layer too (Lambda
	// refuses layers without parent folders).
	have := map[string]bool{}
	for _, e := range entries {
		have[e.path] = true
	}
	for _, e := range entries {
		if !e.whiteout {
			continue
		}
		for d := path.Dir(e.path); d != "/" && !have[d]; d = path.Dir(d) {
			have[d] = true
			if f, ok := inv.tree.Lookup(d); ok && f.Type == tar.TypeDir {
				entries = append(entries, layerEntry{path: d, file: f})
			}
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].path < entries[j].path })
	return entries, st
}

// countWaste counts the regular files of tree at p and below as wasted.
func countWaste(tree *rootfs.Tree, p string, st *Stats) {
	tree.Walk(p, func(f rootfs.File) {
		if f.Type == tar.TypeReg {
			st.WastedBytes += f.Size
			st.WastedFiles++
		}
	})
}

// assemble makes the minimised image: the base layers (untouched, same
// blobs) and the new layer, with the original configuration.
func assemble(orig v1.Image, cf *v1.ConfigFile, base []v1.Layer, lf *layerFile, created time.Time) (v1.Image, error) {
	mt, err := orig.MediaType()
	if err != nil {
		return nil, fmt.Errorf("reading the manifest type: %w", err)
	}
	layerType := types.OCILayer
	start := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	start = mutate.ConfigMediaType(start, types.OCIConfigJSON)
	if mt == types.DockerManifestSchema2 {
		layerType = types.DockerLayer
		start = mutate.MediaType(empty.Image, types.DockerManifestSchema2)
		start = mutate.ConfigMediaType(start, types.DockerConfigJSON)
	}
	var adds []mutate.Addendum
	hist := cf.History
	for _, l := range base {
		// The base layers' own history entries, as far as they can be
		// matched (empty-layer entries are dropped).
		h := v1.History{}
		for len(hist) > 0 {
			h, hist = hist[0], hist[1:]
			if !h.EmptyLayer {
				break
			}
		}
		adds = append(adds, mutate.Addendum{Layer: l, History: h})
	}
	file := lf.path
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return os.Open(file) }, tarball.WithMediaType(layerType))
	if err != nil {
		return nil, fmt.Errorf("reading the new layer: %w", err)
	}
	adds = append(adds, mutate.Addendum{Layer: layer, History: v1.History{
		Created:   v1.Time{Time: created},
		CreatedBy: "fnopt optimize image",
		Comment:   "minimised: only the files the function needs",
	}})
	img, err := mutate.Append(start, adds...)
	if err != nil {
		return nil, fmt.Errorf("assembling the image: %w", err)
	}
	ncf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	ncf = ncf.DeepCopy()
	ncf.Architecture, ncf.OS, ncf.Variant, ncf.OSVersion = cf.Architecture, cf.OS, cf.Variant, cf.OSVersion
	ncf.Config = *cf.Config.DeepCopy()
	ncf.Created = v1.Time{Time: created}
	ncf.Author = cf.Author
	img, err = mutate.ConfigFile(img, ncf)
	if err != nil {
		return nil, fmt.Errorf("setting the configuration: %w", err)
	}
	return img, nil
}
