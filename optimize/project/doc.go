// Package project looks at an existing Lambda function's folder (Go or
// Rust), finds what makes it ship large or start slowly, and plans the
// smallest edits that bring its build to fnopt's tuned settings.
//
// Detection reads the build files a function usually has: go.mod and
// Cargo.toml for the language; a Makefile, shell scripts, a Dockerfile, a
// SAM template.yaml or a serverless.yml for how it is built and what it
// targets. Each finding carries its evidence (file:line), why it matters
// and the edits that fix it. Edits are byte ranges of the original file:
// YAML values are located through the yaml.v3 node tree and patched in
// place, Makefiles, scripts and Cargo.toml are edited at known positions,
// so comments, formatting and unrelated lines stay as they were.
//
// Apply writes every changed file only after the whole plan has been
// prepared, through temporary files renamed into place; a failure part-way
// puts back the files already replaced.
package project
