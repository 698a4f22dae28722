// Package dist produces a function's artifacts and installs them as one
// set: it is what `fnopt build` does, and how verify's project target, the
// benchmark and optimize's proof build a project.
//
// Produce reads the project's fnopt.yaml (unless given a configuration),
// compiles it with the tuned settings (internal/function/build) into a
// staging folder inside the output folder, writes the deterministic zip
// (internal/function/artifact) and, for an image, assembles, checks and
// writes or pushes it (internal/oci/image). Only when every step has
// succeeded are the artifacts moved into the output folder (DIR/dist by
// default), all of them or none: on any failure, a cancelled context
// included, the output folder holds exactly what it held before.
//
// The package never prints: compiler output and image rule violations go
// to Options.Log, what it is doing to Options.Progress. Its errors name no
// command-line flags; commands add those, recognising ErrImageOnly,
// ErrNoLoader and *image.DestError.
package dist
