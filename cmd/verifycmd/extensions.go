package verifycmd

// extensions lists what plugs into `fnopt verify` (see Extension), in the
// order they are tried: the measurement on AWS Lambda (aws.go), which
// also runs the gate there, then the local CI gate (gate.go).
func extensions() []Extension {
	g := &gateExt{}
	return []Extension{&awsExt{gate: g}, g}
}
