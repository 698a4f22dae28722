//go:build !linux

package verify

// Cgroups would limit each sample's memory; cgroups are Linux's, so on
// this system it only says why the limit is not enforced.
type Cgroups struct {
	reason string
}

// DetectCgroups returns a Cgroups that says cgroups cannot be used here.
func DetectCgroups() *Cgroups {
	return &Cgroups{reason: "memory limits need Linux cgroups"}
}

// Unavailable says why cgroups cannot be used.
func (c *Cgroups) Unavailable() string {
	if c == nil {
		return "cgroups not in use"
	}
	return c.reason
}
