// Package store owns the on-disk layout of Faultline's store and the schema
// of every document in it (docs/store.md): run directories
// (store/<name>/<timestamp>/), the manifest campaign.json, results.json,
// nodes/status.jsonl, the store/latest link, listing the runs, marking a run
// interrupted or abandoned, the owner of a run, and the sweeps/ namespace.
// Every document it writes carries a format_version, and reading a version
// it does not know is a clear error.
//
// Every other package reads and writes the store through it; it is the only
// package that reads or writes campaign.json. It knows nothing of campaigns,
// checks, reports or systems under test: options and results are opaque JSON
// to it, owned by the packages that define them.
package store
