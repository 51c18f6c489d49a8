// Package serve is `checker serve`: the web service that browses the store
// of runs (a runs table, each run's report, its files and a tarball), and
// queues ad-hoc campaigns from a form and a JSON API, running them one at a
// time with campaign.Run.
//
// It validates launches with campaign.Options.Validate, the validation of
// `checker run`, reads runs through package store (confined to the store's
// os.Root) and renders reports with package report. It writes nothing into
// a run directory except, when the server is stopped mid-campaign, the
// "interrupted" status of a run left running. It must not touch the history,
// the check, the nemesis or the system under test.
package serve
