package awslambda

import (
	"math"

	"github.com/fnopt/fnopt/internal/function/settings"
)

// The one price table of fnopt: AWS Lambda's on-demand list prices in US
// East (N. Virginia), first volume tier, without the free tier, as AWS's
// pricing page (aws.amazon.com/lambda/pricing) listed them on PricesAsOf.
// Other regions and tiers differ; docs/aws.md repeats this table and its
// date, and a change here is a change there.
const PricesAsOf = "2026-12-01"

// PricesRegion is the region the prices are for.
const PricesRegion = "us-east-1"

// Price is what Lambda charges for one architecture.
type Price struct {
	// PerGBSecond is charged per GB-second of billed duration (memory in
	// GB times billed seconds).
	PerGBSecond float64 `json:"usd_per_gb_second"`
	// PerRequest is charged per invocation.
	PerRequest float64 `json:"usd_per_request"`
}

// PriceOf is the list price for arch.
func PriceOf(arch settings.Arch) Price {
	if arch == settings.ARM64 {
		return Price{PerGBSecond: 0.0000133334, PerRequest: 0.20 / 1e6}
	}
	return Price{PerGBSecond: 0.0000166667, PerRequest: 0.20 / 1e6}
}

// Invocation is the price of one invocation billed for billedMs at
// memoryMB. Lambda bills duration in whole milliseconds, rounded up (the
// REPORT line's Billed Duration already is); for a custom runtime a cold
// start's Billed Duration includes its init.
func (p Price) Invocation(memoryMB int, billedMs float64) float64 {
	return p.PerRequest + p.PerGBSecond*GBSeconds(memoryMB, billedMs)
}

// GBSeconds is Lambda's billing unit: memory in GB (1 GB is 1024 MB)
// times billed seconds.
func GBSeconds(memoryMB int, billedMs float64) float64 {
	return float64(memoryMB) / 1024 * math.Ceil(billedMs) / 1000
}

// Cost is what a configuration costs at the list price.
type Cost struct {
	// ColdStartUSD is one cold invocation at the median Billed Duration
	// of the cold samples (init included).
	ColdStartUSD float64 `json:"cold_start_usd"`
	// WarmMillionUSD is one million warm invocations at the median
	// Billed Duration of the warm ones, or, with no warm invocations
	// measured, of the cold samples' Duration (the handler alone).
	WarmMillionUSD float64 `json:"warm_1m_usd"`
	// RunUSD is what the measurement itself was billed: every
	// invocation sent, at its own Billed Duration.
	RunUSD float64 `json:"run_usd"`
	// RunGBSeconds is the measurement's billed GB-seconds.
	RunGBSeconds float64 `json:"run_gb_seconds"`
	// Price is the price used, PricesAsOf its date, Region its region.
	Price  Price  `json:"price"`
	AsOf   string `json:"prices_as_of"`
	Region string `json:"prices_region"`
}
