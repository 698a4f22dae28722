package gate

import "fmt"

// shiftSignWarnings explain each metric whose shift and difference of
// medians point in opposite directions. Both are honest: the shift
// (Hodges-Lehmann) is the median of every after − before difference
// between a sample of each side, the difference of medians compares one
// sample of each; they disagree in sign when the two distributions differ
// in shape (spread, tails, several modes), not only in place. The verdict
// uses the shift, and a reader of the table must not be left to guess
// why it says slower while the medians say faster. A change that is not
// significant has no direction to explain: both figures are noise there.
func shiftSignWarnings(ms []MetricResult) []string {
	var out []string
	for _, m := range ms {
		c := m.Comparison
		diff := c.After.Center - c.Before.Center
		if m.Change == ChangeNone || c.Shift.Center*diff >= 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s: the shift %s (Hodges-Lehmann: the median of every after − before difference) and the difference of the medians %s point in opposite directions: the two distributions differ in shape (spread or tails), not only in place; the verdict uses the shift",
			MetricLabel(m.Metric), formatDelta(m.Metric, c.Shift.Center), formatDelta(m.Metric, diff)))
	}
	return out
}

// tableChange is how a metric's change reads in the text report's table:
// a regression of a metric that is not gated says so, as the Markdown
// report does, since it fails nothing.
func tableChange(m MetricResult) string {
	if m.Change == ChangeRegression && !m.Gated {
		return "regression (not gated)"
	}
	return changeWord(m.Metric, m.Change)
}
