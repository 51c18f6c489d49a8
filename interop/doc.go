// Package interop moves histories between Faultline and other tools: it reads
// a Jepsen history.edn (register/cas, set and list-append tests, through the
// olympos.io EDN library) and Porcupine operations as JSON, and writes a
// Faultline history back out in either form.
//
// It owns the mapping between those formats and history.Event only. It
// checks nothing (package check does), writes no report (package report)
// and never changes the JSONL contract (package history owns it): every
// history it returns has passed history's own validation.
package interop
