// Package reports owns what people and CI systems read after a campaign: the
// self-contained report.html of a run (verdict, settings, anomalies in plain
// language, a zoomable timeline, SVG plots drawn with gonum/plot, per-node
// facts), junit.xml, and the `checker serve` web service that browses the
// store of runs, serves their files and tarballs, and queues ad-hoc campaigns.
//
// It only reads a run directory (campaign.json, history.jsonl, results.json,
// nodes/, keys/) through its own tolerant readers: a missing or half-written
// file makes a run "incomplete", never a crash. It writes nothing but
// report.html and junit.xml into a run directory (and, when a server is shut
// down mid-campaign, the "interrupted" status of a run left "running"). It
// must not touch the history, the check, the campaign's phases or the system
// under test: campaigns are launched through the Launcher interface.
package reports
