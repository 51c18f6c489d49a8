// Package report owns what people and CI systems read after a campaign: the
// self-contained report.html of a run (verdict, settings, anomalies in plain
// language, a zoomable timeline, SVG plots drawn with gonum/plot, per-node
// facts), junit.xml, and the per-key views it links.
//
// It reads a run directory through package store (campaign.json,
// results.json, nodes/status.jsonl) and history.jsonl through history's one
// reader, keeping of each operation only what the analyses walk and reading
// the file again for what the page shows of the few operations it shows, so
// that the report of a million operations takes less memory than their
// check. Faults pair by history's one rule (history.Faults): a missing
// or half-written file, or a line the reader refuses, makes a run
// "incomplete" with the problem named, never a crash. It writes nothing but report.html and junit.xml into a run
// directory. It must not touch the history's recording, the check, the
// campaign's phases, the web service (package serve) or the system under
// test.
package report
