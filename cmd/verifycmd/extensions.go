package verifycmd

// extensions lists what plugs into `fnopt verify` (see Extension). The CI
// gate adds itself here from gate.go.
func extensions() []Extension { return []Extension{&gateExt{}} }
