// Command fnopt makes AWS Lambda functions in Go and Rust ship small and
// start fast: it scaffolds them (new), builds tuned artifacts (build),
// measures cold starts (verify) and tunes existing projects (optimize).
package main

import "os"

func main() { os.Exit(run(os.Args[1:])) }
