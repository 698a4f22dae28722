package buildcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/fnopt/fnopt/internal/bytesize"
	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/oci/rootfs"
	"github.com/fnopt/fnopt/internal/version"
)

// Schema names the version of the JSON document `fnopt build --json`
// prints. Fields are only ever added within a version; a change to an
// existing field's meaning gets a new version.
const Schema = "fnopt.build/v1"

// Report is what a build did; with --json it is printed as is.
type Report struct {
	Schema string `json:"schema"`
	// FnoptVersion is the fnopt that wrote the document (internal/version).
	FnoptVersion string       `json:"fnopt_version"`
	Name         string       `json:"name"`
	Language     string       `json:"language"`
	Arch         string       `json:"arch"`
	Settings     Settings     `json:"settings"`
	Bootstrap    FileReport   `json:"bootstrap"`
	Zip          FileReport   `json:"zip"`
	Image        *ImageReport `json:"image,omitempty"`
}

// Settings are the tuned settings the build used.
type Settings struct {
	// Command is the build as a shell command line run in the project.
	Command string `json:"command"`
	// Package is the Go package or Cargo binary target built.
	Package string `json:"package"`
	// KeptProfile are the tuned Cargo [profile.release] keys the project's
	// Cargo.toml sets itself to another value, with it ("opt-level = 2"):
	// fnopt did not override them (Rust only).
	KeptProfile []string `json:"kept_profile,omitempty"`
}

// FileReport describes a file written.
type FileReport struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// ImageReport describes the image written.
type ImageReport struct {
	// Destination is where the image was written, as --image-out takes it.
	Destination string `json:"destination"`
	// Digest is the manifest's digest.
	Digest   string `json:"digest"`
	Platform string `json:"platform"`
	// CompressedBytes is what a registry stores and Lambda pulls: the
	// manifest, the config and the gzip-compressed layers.
	CompressedBytes int64 `json:"compressed_bytes"`
	// UncompressedBytes is the sum of the layers' uncompressed sizes, the
	// figure Lambda's 10 GB limit applies to.
	UncompressedBytes int64 `json:"uncompressed_bytes"`
	// Efficiency scores the layers as dive does: score, wasted_bytes,
	// user_wasted_percent (a ratio, as dive's) and user_bytes.
	Efficiency rootfs.Efficiency `json:"efficiency"`
	// Failed are the efficiency thresholds the image does not meet, named
	// as dive's rules (absent when none failed or none was set).
	Failed []rootfs.LimitFailure `json:"failed_thresholds,omitempty"`
}

func newReport(res *dist.Result) *Report {
	r := &Report{
		Schema:       Schema,
		FnoptVersion: version.Get().Version,
		Name:         res.Config.Name,
		Language:     string(res.Config.Language),
		Arch:         string(res.Arch),
		Settings:     Settings{Command: res.Command, Package: res.Compiled, KeptProfile: res.KeptProfile},
		Bootstrap:    FileReport(res.Bootstrap),
		Zip:          FileReport(res.Zip),
	}
	if img := res.Image; img != nil {
		r.Image = &ImageReport{
			Destination:       img.Dest.String(),
			Digest:            img.Digest,
			Platform:          img.Platform,
			CompressedBytes:   img.CompressedBytes,
			UncompressedBytes: img.UncompressedBytes,
			Efficiency:        img.Efficiency,
			Failed:            img.Failed,
		}
	}
	return r
}

func writeJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func writeText(w io.Writer, r *Report) {
	fmt.Fprintf(w, "built %s (%s, %s)\n", r.Name, r.Language, r.Arch)
	fmt.Fprintf(w, "  settings   %s\n", r.Settings.Command)
	if len(r.Settings.KeptProfile) > 0 {
		fmt.Fprintf(w, "  kept       %s (Cargo.toml's [profile.release], not overridden)\n", strings.Join(r.Settings.KeptProfile, ", "))
	}
	rows := [][3]string{
		{"bootstrap", r.Bootstrap.Path, size(r.Bootstrap.Bytes)},
		{"zip", r.Zip.Path, size(r.Zip.Bytes) + ratio(r.Zip.Bytes, r.Bootstrap.Bytes)},
	}
	if r.Image != nil {
		rows = append(rows, [3]string{"image", r.Image.Destination, size(r.Image.CompressedBytes) + " compressed, " + size(r.Image.UncompressedBytes) + " uncompressed"})
	}
	width := 0
	for _, row := range rows {
		width = max(width, len(row[1]))
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %-10s %-*s  %s\n", row[0], width, row[1], row[2])
	}
	if r.Image != nil {
		fmt.Fprintf(w, "  %-10s %s (%s)\n", "digest", r.Image.Digest, r.Image.Platform)
		e := r.Image.Efficiency
		fmt.Fprintf(w, "  %-10s %.2f%% as dive scores it; %s wasted, %.2f%% of the bytes above the first layer\n", "efficiency", 100*e.Score, bytesize.Format(e.WastedBytes), 100*e.UserWastedPercent)
		for _, f := range r.Image.Failed {
			fmt.Fprintf(w, "  %-10s %s\n", "FAIL", failure(f))
		}
	}
}

// failure words a failed threshold with dive's rule name.
func failure(f rootfs.LimitFailure) string {
	switch f.Rule {
	case "lowestEfficiency":
		return fmt.Sprintf("%s: efficiency %.4f is below %.4f (--min-efficiency)", f.Rule, f.Value, f.Limit)
	case "highestWastedBytes":
		return fmt.Sprintf("%s: %s wasted is more than %s (--max-wasted)", f.Rule, size(int64(f.Value)), size(int64(f.Limit)))
	}
	return fmt.Sprintf("%s: %.4f of the bytes above the first layer wasted is more than %.4f (--max-user-wasted-percent)", f.Rule, f.Value, f.Limit)
}

// size prints a byte count readably and, from a KiB on, exactly too.
func size(n int64) string {
	if n < bytesize.KiB {
		return bytesize.Format(n)
	}
	return fmt.Sprintf("%s (%d bytes)", bytesize.Format(n), n)
}

func ratio(part, whole int64) string {
	if whole == 0 {
		return ""
	}
	return fmt.Sprintf(", %.0f%% of the binary", 100*float64(part)/float64(whole))
}
