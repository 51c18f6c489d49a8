// Package sweep owns `checker sweep`: it proves the checker by running, for
// every selected planted bug and seed, a campaign that exposes the bug (the
// pairing of bug and fault is exposures.go; sut/bugs only names and
// describes the bugs), plus
// control campaigns with no bug under all faults; it then judges each run,
// aggregates the detection matrix (detected runs out of runs, median time to
// the first anomalous operation, anomaly kinds; valid controls out of
// controls), decides the sweep's exit status, and writes the matrix as
// store/sweeps/<UTC timestamp>/sweep.json and index.html (plus
// store/sweeps/latest).
//
// Every campaign is run through campaign.Run and lands in the normal store
// layout (store/sweep-<bug>/<timestamp>/, store/sweep-control/...), so
// `checker serve` lists the runs like any others. The package must not reach
// into the runtimes, the nemesis, the workload or the checker: it only reads
// what a campaign returns (its manifest and check.Result).
package sweep
