// Package gate decides whether a change made a Lambda function start
// slower or grow: it compares two sets of cold-start samples (a saved
// baseline or a build of another git revision, measured interleaved) with
// a rank test and a minimum effect, checks the budgets in fnopt.yaml, and
// renders the verdict as text, JSON, Markdown or a plot.
//
// RunAgainst and RunBaseline are the gate's two modes as one call each;
// `fnopt verify` only turns flags into Options and renders what they
// return.
package gate
