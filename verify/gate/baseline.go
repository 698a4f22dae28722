package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/fnopt/fnopt/internal/atomicfile"
	"github.com/fnopt/fnopt/internal/version"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/stats"
)

// BaselineSchema names the baseline file format. A reader refuses other
// schemas rather than misreading them; a new incompatible layout gets v2.
const BaselineSchema = "fnopt.baseline/v1"

// Baseline is a saved measurement (--save-baseline) that a later run
// compares against (--baseline). It keeps the raw samples, not only the
// summary, because the rank test needs them.
type Baseline struct {
	Schema string `json:"schema"`
	// Created is when the measurement was taken (UTC).
	Created time.Time `json:"created"`
	// FnoptVersion is the fnopt that measured.
	FnoptVersion string `json:"fnopt_version"`
	// Target is what was measured: a project folder, bootstrap, zip or
	// image reference, as given on the command line.
	Target string `json:"target"`
	// Revision is the git commit of the target's repository, when known;
	// Dirty says the working tree had changes on top of it.
	Revision string `json:"revision,omitempty"`
	Dirty    bool   `json:"dirty,omitempty"`
	// Machine and Settings say how it was measured; comparing against a
	// baseline taken elsewhere or otherwise draws a warning.
	Machine  verify.Machine `json:"machine"`
	Settings Settings       `json:"settings"`
	// Samples are the raw cold samples, in the order they were taken.
	Samples []verify.Sample `json:"samples"`
	// Summary has the usual figures per metric, for people and tools
	// that read the file without the samples.
	Summary map[verify.Metric]stats.Summary `json:"summary"`
	// Sizes are artifact sizes in bytes by name; Artifact names the one
	// that ships.
	Sizes    map[string]int64 `json:"sizes,omitempty"`
	Artifact string           `json:"artifact,omitempty"`
}

// Settings are the measurement options that change the figures.
type Settings struct {
	Samples   int  `json:"samples"`
	Warm      int  `json:"warm"`
	MemoryMB  int  `json:"memory_mb,omitempty"`
	ColdCache bool `json:"cold_cache,omitempty"`
}

// NewBaseline builds a baseline from samples, filling in the schema and
// the summaries. The caller sets the descriptive fields.
func NewBaseline(samples []verify.Sample, created time.Time) *Baseline {
	b := &Baseline{Schema: BaselineSchema, Created: created.UTC(), Samples: samples, Summary: map[verify.Metric]stats.Summary{}}
	for _, m := range reported {
		if v := verify.Values(samples, m); len(v) > 0 {
			b.Summary[m] = stats.Summarize(v)
		}
	}
	return b
}

// Side returns the baseline as the Before side of a comparison.
func (b *Baseline) Side(label string) Side {
	return Side{Label: label, Samples: b.Samples, Sizes: b.Sizes, Artifact: b.Artifact}
}

// Validate checks what a comparison relies on.
func (b *Baseline) Validate() error {
	if b.Schema != BaselineSchema {
		return fmt.Errorf("schema %q is not %q; save the baseline again with this fnopt", b.Schema, BaselineSchema)
	}
	if len(b.Samples) == 0 {
		return errors.New("it has no samples")
	}
	for i, s := range b.Samples {
		for _, v := range []float64{s.InitMs, s.FirstInvokeMs, s.ColdStartMs} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return fmt.Errorf("sample %d has an invalid time %v", i+1, v)
			}
		}
	}
	return nil
}

// Differences lists, one line each, how the way b was measured differs
// from machine and settings now. Any difference makes the comparison
// less meaningful, so reports show them as warnings.
func (b *Baseline) Differences(m verify.Machine, s Settings) []string {
	var out []string
	diff := func(what string, then, now any) {
		if then != now {
			out = append(out, fmt.Sprintf("baseline %s was %v, now %v", what, then, now))
		}
	}
	diff("CPU", b.Machine.CPU, m.CPU)
	diff("CPU count", b.Machine.CPUs, m.CPUs)
	diff("arch", b.Machine.Arch, m.Arch)
	diff("warm invocations", b.Settings.Warm, s.Warm)
	diff("memory (MB)", b.Settings.MemoryMB, s.MemoryMB)
	diff("cold cache", b.Settings.ColdCache, s.ColdCache)
	return out
}

// SaveBaseline writes b to path atomically: a reader (or a crash) never
// sees half a file, and an existing baseline is replaced only whole.
func SaveBaseline(path string, b *Baseline) error {
	if err := b.Validate(); err != nil {
		return fmt.Errorf("saving baseline %s: %w", path, err)
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding baseline: %w", err)
	}
	data = append(data, '\n')
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("saving baseline: %w", err)
	}
	return nil
}

// LoadBaseline reads and checks a baseline file. Unknown fields are
// errors: a file from a newer fnopt should say so, not half-load.
func LoadBaseline(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading baseline: %w", err)
	}
	var probe struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("baseline %s is not JSON: %v", path, err)
	}
	if probe.Schema != BaselineSchema {
		return nil, &SchemaError{Path: path, Schema: probe.Schema}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Baseline
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("baseline %s is not valid: %v", path, err)
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	return &b, nil
}

// SchemaError is a file that is not a baseline of this fnopt: another
// version's, or no baseline at all.
type SchemaError struct {
	Path   string
	Schema string // the file's schema, "" when it has none
}

// OtherVersion reports whether the file is a baseline of another fnopt
// version, rather than something else.
func (e *SchemaError) OtherVersion() bool {
	return strings.HasPrefix(e.Schema, "fnopt.baseline/")
}

func (e *SchemaError) Error() string {
	msg := fmt.Sprintf("baseline %s has schema %q, want %q", e.Path, e.Schema, BaselineSchema)
	if e.OtherVersion() {
		msg += ": it was written by another fnopt version; save it again with this one"
	}
	return msg
}

// loadCompare reads the baseline to compare with, if there is one (path
// is not empty), before anything is measured: a bad file costs nothing.
func loadCompare(path string) (*Baseline, error) {
	if path == "" {
		return nil, nil
	}
	return LoadBaseline(path)
}

// saveBaseline saves the samples and sizes of now, measured on machine
// with the settings measured, as a baseline at path, with the fnopt and
// git revision they come from, for a later run to compare against.
func saveBaseline(ctx context.Context, path, target string, samples []verify.Sample, now Side, machine verify.Machine, measured Settings) (*Baseline, error) {
	b := NewBaseline(samples, time.Now())
	b.FnoptVersion = version.Get().Version
	b.Target = target
	b.Revision, b.Dirty = gitRevision(ctx, target)
	b.Machine = machine
	b.Settings = measured
	b.Sizes, b.Artifact = now.Sizes, now.Artifact
	if err := SaveBaseline(path, b); err != nil {
		return nil, err
	}
	return b, nil
}

// baselineSide is the saved baseline as the before side of a
// comparison, labelled with its file, when it was made and from which
// revision, so a report says what it compared against.
func baselineSide(path string, old *Baseline) Side {
	label := fmt.Sprintf("baseline %s (%s", path, old.Created.Format("2006-01-02 15:04 UTC"))
	if old.Revision != "" {
		label += ", " + short(old.Revision)
	}
	return old.Side(label + ")")
}
