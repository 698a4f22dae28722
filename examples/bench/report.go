package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fnopt/fnopt/internal/bytesize"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/stats"
)

// Row is one variant's figures in one regime.
type Row struct {
	Name        string        `json:"name"`
	Init        stats.Summary `json:"init_ms"`
	FirstInvoke stats.Summary `json:"first_invoke_ms"`
	ColdStart   stats.Summary `json:"cold_start_ms"`
	Warm        stats.Summary `json:"warm_invoke_ms"`
	MaxRSS      stats.Summary `json:"max_rss_bytes"`
	// Linkage is how the row's bootstrap is linked; OwnFloor names the C
	// floor of that linkage (examples/floor/floor.c linked the same way).
	Linkage  Linkage `json:"linkage"`
	OwnFloor string  `json:"own_floor"`
	// Ratios of the init and cold-start medians, in the same regime, to
	// go-plain's, to the row's own floor's and, for Go rows, to
	// go-floor's (0 for the others).
	InitVsPlain    float64 `json:"init_p50_vs_go_plain"`
	InitVsOwnFloor float64 `json:"init_p50_vs_own_floor"`
	InitVsGoFloor  float64 `json:"init_p50_vs_go_floor,omitempty"`
	ColdVsPlain    float64 `json:"cold_start_p50_vs_go_plain"`
	ColdVsOwnFloor float64 `json:"cold_start_p50_vs_own_floor"`
	ColdVsGoFloor  float64 `json:"cold_start_p50_vs_go_floor,omitempty"`
}

// Regime is one measuring pass over every variant: with the page cache
// emptied before each sample (as on a first start on Lambda, where the
// code has just been fetched) or with the files cached.
type Regime struct {
	Name      string   `json:"name"`
	ColdCache bool     `json:"cold_cache"`
	Rows      []Row    `json:"rows"`
	Targets   []Target `json:"targets"`
	Notes     []string `json:"notes,omitempty"`
}

// Artifact is what a variant's build produced, the same in every regime.
type Artifact struct {
	Name        string `json:"name"`
	What        string `json:"what"`
	Command     string `json:"command"`
	BinaryBytes int64  `json:"binary_bytes"`
	ZipBytes    int64  `json:"zip_bytes"`
}

// Target is one of the benchmark's goals: a ratio of init medians
// measured in the same run.
type Target struct {
	Name    string `json:"name"`
	Row     string `json:"row"`
	Against string `json:"against"`
	// Regime is where the target is judged: "cold", "warm" or "" for
	// both page-cache regimes.
	Regime   string  `json:"regime,omitempty"`
	Limit    float64 `json:"limit"`
	Measured float64 `json:"measured"`
	Met      bool    `json:"met"`
}

// Report is everything one run found; it is written as results.json.
type Report struct {
	Schema    string         `json:"schema"`
	Date      time.Time      `json:"date"`
	Machine   verify.Machine `json:"machine"`
	Go        string         `json:"go"`
	Rust      string         `json:"rust"`
	Samples   int            `json:"samples"`
	Warm      int            `json:"warm"`
	Artifacts []Artifact     `json:"artifacts"`
	Regimes   []Regime       `json:"regimes"`
}

// goals are the benchmark's targets: init p50 of Row at most Limit times
// that of Against, in the regime named (issue 16; the first three are
// issue 8's, which were met with a cold page cache).
func goals() []Target {
	return []Target{
		{Name: "Go tuned vs Go plain", Row: "go-tuned", Against: baselineName, Regime: "cold", Limit: 0.60},
		{Name: "Go minimal vs Go plain", Row: "go-minimal", Against: baselineName, Regime: "cold", Limit: 0.45},
		{Name: "Rust minimal vs Go plain", Row: "rust-minimal", Against: baselineName, Regime: "cold", Limit: 0.35},
		{Name: "Go minimal vs go-floor", Row: "go-minimal", Against: goFloorName, Regime: "warm", Limit: 1.10},
		{Name: "Rust minimal vs its linkage's floor (glibc dynamic)", Row: "rust-minimal", Against: floorGlibcDynamic, Limit: 1.15},
		{Name: "Rust static vs its linkage's floor (glibc static)", Row: "rust-static", Against: floorGlibcStatic, Regime: "warm", Limit: 1.20},
	}
}

// regimeKey is how a Target names a regime.
func regimeKey(cold bool) string {
	if cold {
		return "cold"
	}
	return "warm"
}

// newArtifacts lists what was built, in table order.
func newArtifacts(built []Built) []Artifact {
	out := make([]Artifact, len(built))
	for i, b := range built {
		out[i] = Artifact{Name: b.Name, What: b.What, Command: b.Command, BinaryBytes: b.BinaryBytes, ZipBytes: b.ZipBytes}
	}
	return out
}

// newRegime summarises one pass: runs[i] measured built[i].
func newRegime(name string, coldCache bool, built []Built, runs []verify.Run) (Regime, error) {
	if len(built) != len(runs) {
		return Regime{}, fmt.Errorf("%d variants but %d runs", len(built), len(runs))
	}
	r := Regime{Name: name, ColdCache: coldCache}
	for i, b := range built {
		s := runs[i].Samples
		r.Rows = append(r.Rows, Row{
			Name:        b.Name,
			Linkage:     b.Linkage,
			OwnFloor:    ownFloor(b.Linkage),
			Init:        stats.Summarize(verify.Values(s, verify.MetricInit)),
			FirstInvoke: stats.Summarize(verify.Values(s, verify.MetricFirstInvoke)),
			ColdStart:   stats.Summarize(verify.Values(s, verify.MetricColdStart)),
			Warm:        stats.Summarize(verify.Values(s, verify.MetricWarmInvoke)),
			MaxRSS:      stats.Summarize(verify.Values(s, verify.MetricMaxRSS)),
		})
		for _, n := range runs[i].Notes {
			r.Notes = append(r.Notes, b.Name+": "+n)
		}
	}
	byName := map[string]*Row{}
	for i := range r.Rows {
		byName[r.Rows[i].Name] = &r.Rows[i]
	}
	plain := byName[baselineName]
	if plain == nil {
		return Regime{}, fmt.Errorf("the %s row is needed for the ratios", baselineName)
	}
	goFloor := byName[goFloorName]
	for i := range r.Rows {
		row := &r.Rows[i]
		own := byName[row.OwnFloor]
		if own == nil {
			return Regime{}, fmt.Errorf("%s: the %s row (the floor of its linkage, %s) is needed for the ratios", row.Name, row.OwnFloor, row.Linkage)
		}
		row.InitVsPlain = ratio(row.Init.P50, plain.Init.P50)
		row.InitVsOwnFloor = ratio(row.Init.P50, own.Init.P50)
		row.ColdVsPlain = ratio(row.ColdStart.P50, plain.ColdStart.P50)
		row.ColdVsOwnFloor = ratio(row.ColdStart.P50, own.ColdStart.P50)
		if row.Linkage == GoStatic && goFloor != nil {
			row.InitVsGoFloor = ratio(row.Init.P50, goFloor.Init.P50)
			row.ColdVsGoFloor = ratio(row.ColdStart.P50, goFloor.ColdStart.P50)
		}
	}
	for _, g := range goals() {
		row, against := byName[g.Row], byName[g.Against]
		if row == nil || against == nil || (g.Regime != "" && g.Regime != regimeKey(coldCache)) {
			continue
		}
		g.Measured = ratio(row.Init.P50, against.Init.P50)
		g.Met = g.Measured <= g.Limit
		r.Targets = append(r.Targets, g)
	}
	return r, nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// WriteMarkdown writes the report as Markdown: per regime the figures and
// the targets, then the sizes and how each variant was built.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	sizes := map[string]Artifact{}
	for _, a := range r.Artifacts {
		sizes[a.Name] = a
	}
	for _, g := range r.Regimes {
		fmt.Fprintf(&b, "### %s\n\n", g.Name)
		b.WriteString("| variant | linkage | init p50 | init p90 | first invoke p50 | cold start p50 | warm invoke p50 | peak RSS p50 | binary | zip |")
		b.WriteString(" init ÷ go-plain | init ÷ own floor | init ÷ go-floor | cold start ÷ go-plain | cold start ÷ own floor | cold start ÷ go-floor |\n")
		b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, row := range g.Rows {
			a := sizes[row.Name]
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				row.Name, row.Linkage, msText(row.Init.P50), msText(row.Init.P90), msText(row.FirstInvoke.P50),
				msText(row.ColdStart.P50), msText(row.Warm.P50), bytesize.Float(row.MaxRSS.P50),
				bytesize.Float(float64(a.BinaryBytes)), bytesize.Float(float64(a.ZipBytes)),
				ratioText(row.InitVsPlain), ownFloorText(row.InitVsOwnFloor, row), optRatioText(row.InitVsGoFloor),
				ratioText(row.ColdVsPlain), ownFloorText(row.ColdVsOwnFloor, row), optRatioText(row.ColdVsGoFloor))
		}
		b.WriteString("\nOwn floor: examples/floor/floor.c linked as the row is (" + floorGlibcDynamic + ", " + floorGlibcStatic + ", " + floorName + "; static Go rows: " + floorName + ").\n")
		b.WriteString("\n| target (init p50 ratio, this regime) | measured | limit | |\n|---|--:|--:|---|\n")
		for _, t := range g.Targets {
			verdict := "met"
			if !t.Met {
				verdict = fmt.Sprintf("**missed** by %.0f%%", 100*(t.Measured/t.Limit-1))
				if over := 100 * (t.Measured/t.Limit - 1); over < 1 {
					verdict = fmt.Sprintf("**missed** by %.1f%%", over) // not "by 0%"
				}
			}
			fmt.Fprintf(&b, "| %s | %s | ≤ %s | %s |\n", t.Name, ratioText(t.Measured), ratioText(t.Limit), verdict)
		}
		for _, n := range g.Notes {
			fmt.Fprintf(&b, "\nNote: %s\n", n)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%d cold starts per variant and regime, measured interleaved (one sample of each variant in turn) by verify.Measure, %d warm invocations after each.\n",
		r.Samples, r.Warm)
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, %s, Linux %s; %s, %s; %s UTC.\n",
		r.Machine.CPU, r.Machine.CPUs, r.Machine.Arch, r.Machine.Kernel, r.Go, r.Rust, r.Date.UTC().Format("2006-01-02 15:04"))
	b.WriteString("Times are local and comparative (fnopt's Runtime API emulator on this machine), not Lambda's Init Duration.\n")
	b.WriteString("\nHow each variant was built (for this machine's architecture):\n\n")
	for _, a := range r.Artifacts {
		fmt.Fprintf(&b, "- **%s**: %s. `%s`\n", a.Name, a.What, a.Command)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteShort writes the condensed table `make demo` shows: per variant the
// zip and the init medians, cold and warm page cache, with their ratios to
// go-plain.
func (r *Report) WriteShort(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| variant | zip |")
	for _, g := range r.Regimes {
		short, _, _ := strings.Cut(g.Name, " (")
		fmt.Fprintf(&b, " init p50, %s | ÷ go-plain | ÷ own floor | ÷ go-floor |", strings.ToLower(short))
	}
	b.WriteString("\n|---|--:|")
	for range r.Regimes {
		b.WriteString("--:|--:|--:|--:|")
	}
	b.WriteString("\n")
	for i, a := range r.Artifacts {
		fmt.Fprintf(&b, "| %s | %s |", a.Name, bytesize.Float(float64(a.ZipBytes)))
		for _, g := range r.Regimes {
			if i < len(g.Rows) {
				row := g.Rows[i]
				fmt.Fprintf(&b, " %s | %s | %s | %s |", msText(row.Init.P50), ratioText(row.InitVsPlain), ownFloorText(row.InitVsOwnFloor, row), optRatioText(row.InitVsGoFloor))
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func msText(v float64) string { return fmt.Sprintf("%.2f ms", v) }

func ratioText(v float64) string { return fmt.Sprintf("%.2f×", v) }

// optRatioText is a ratio that only some rows have: "–" for the others.
func optRatioText(v float64) string {
	if v == 0 {
		return "–"
	}
	return ratioText(v)
}

// ownFloorText is a ratio to the row's own floor, naming the floor's
// linkage (the floors themselves are 1.00×).
func ownFloorText(v float64, row Row) string {
	if row.Name == row.OwnFloor {
		return ratioText(v)
	}
	return ratioText(v) + " (" + strings.TrimPrefix(row.OwnFloor, "floor-") + ")"
}
