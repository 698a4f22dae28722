package rootfs

// Report says what Flatten wrote and what it refused.
type Report struct {
	Layers int
	// Files counts entries written: files, directories, symlinks, hardlinks.
	Files int64
	// Bytes counts the regular file contents written.
	Bytes int64
	// Skipped lists refused entries (at most 1000; SkippedCount has the total).
	Skipped      []Skipped
	SkippedCount int64
}

// Skipped is one refused entry.
type Skipped struct {
	Layer  int    `json:"layer"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}
