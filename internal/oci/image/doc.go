// Package image reads, writes, builds and checks Lambda container images
// with go-containerregistry, without a Docker engine.
//
// Images live in one of three places, named by ParseRef: an OCI image
// layout folder (oci:DIR[:TAG]), a `docker save` tarball (tar:FILE) or a
// registry. Load reads one (choosing a platform out of an index), Write
// stores one atomically, Build assembles a reproducible custom-runtime
// image around a bootstrap, and Check runs Lambda's compliance rules on
// any image, reading its merged file tree as internal/oci/rootfs.Tree
// (whiteouts applied, symlinks resolved inside the image, as the image is
// flattened to run it).
//
// Every blob read from a folder or a file is checked against the
// descriptor that names it while it streams (blobcheck.go), as ggcr's
// remote package checks what a registry sends, and every registry
// operation has a deadline (registry.go).
//
// The package never prints; errors are one line saying what to do.
package image
