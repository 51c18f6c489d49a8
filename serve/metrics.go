package serve

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/faultline/faultline/report"
)

// metrics is the server's Prometheus registry: the store's runs counted at
// each scrape (from the same summaries as the runs table), the queue's
// depth, and the durations of the campaigns this server ran.
type metrics struct {
	registry *prometheus.Registry
	duration *prometheus.HistogramVec
}

var (
	runsDesc = prometheus.NewDesc("faultline_runs",
		"Runs in the store, by campaign name and verdict (valid, invalid, unknown, incomplete).", []string{"name", "verdict"}, nil)
	anomaliesDesc = prometheus.NewDesc("faultline_anomalies",
		"Anomalies found over every run in the store, by kind.", []string{"kind"}, nil)
	lastVerdictDesc = prometheus.NewDesc("faultline_last_verdict",
		"1 for the verdict of each campaign name's newest run (one series per name carries 1).", []string{"name", "verdict"}, nil)
	lastRunDesc = prometheus.NewDesc("faultline_last_run_timestamp_seconds",
		"When each campaign name's newest run started, as a Unix time.", []string{"name"}, nil)
	queueDesc = prometheus.NewDesc("faultline_queue_depth",
		"Campaigns waiting to run in this server's queue.", nil, nil)
	runningDesc = prometheus.NewDesc("faultline_campaigns_running",
		"Campaigns this server is running now (0 or 1).", nil, nil)
)

func newMetrics(s *Server) *metrics {
	m := &metrics{registry: prometheus.NewRegistry(),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "faultline_campaign_duration_seconds",
			Help: "Wall time of the campaigns this server ran, from start to verdict, by how they ended (done, failed, interrupted, cancelled).",
			// From a few seconds (a campaign that could not start) to an hour.
			Buckets: []float64{5, 15, 30, 60, 120, 300, 600, 1200, 3600},
		}, []string{"state"}),
	}
	m.registry.MustRegister(m.duration, storeCollector{s})
	return m
}

// observe records a finished campaign.
func (m *metrics) observe(state string, d time.Duration) {
	m.duration.WithLabelValues(state).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// storeCollector reads the store at scrape time.
type storeCollector struct{ s *Server }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{runsDesc, anomaliesDesc, lastVerdictDesc, lastRunDesc, queueDesc, runningDesc} {
		ch <- d
	}
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	if q := c.s.queue; q != nil {
		queued, running := q.counts()
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(queued))
		ch <- prometheus.MustNewConstMetric(runningDesc, prometheus.GaugeValue, float64(running))
	} else {
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, 0)
		ch <- prometheus.MustNewConstMetric(runningDesc, prometheus.GaugeValue, 0)
	}
	runs, err := c.s.listRuns()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(runsDesc, err)
		return
	}
	sums := make([]report.RunSummary, len(runs))
	for i, r := range runs {
		sums[i] = r.RunSummary
	}
	type nameVerdict struct{ name, verdict string }
	byVerdict := map[nameVerdict]int{}
	anomalies := map[string]int{}
	for _, r := range sums {
		byVerdict[nameVerdict{r.Name, r.Verdict}]++
		for k, n := range r.AnomalyCounts {
			anomalies[k] += n
		}
	}
	for k, n := range byVerdict {
		ch <- prometheus.MustNewConstMetric(runsDesc, prometheus.GaugeValue, float64(n), k.name, k.verdict)
	}
	for k, n := range anomalies {
		ch <- prometheus.MustNewConstMetric(anomaliesDesc, prometheus.GaugeValue, float64(n), k)
	}
	// Runs are newest first: a trend's first point is the name's last run.
	for _, t := range report.Trends(sums) {
		last := t.Verdicts[0]
		for _, v := range []string{report.VerdictValid, report.VerdictInvalid, report.VerdictUnknown, report.VerdictIncomplete} {
			val := 0.0
			if v == last.Verdict {
				val = 1
			}
			ch <- prometheus.MustNewConstMetric(lastVerdictDesc, prometheus.GaugeValue, val, t.Name, v)
		}
		for _, r := range sums {
			if r.ID == last.ID && r.StartedAt != nil {
				ch <- prometheus.MustNewConstMetric(lastRunDesc, prometheus.GaugeValue, float64(r.StartedAt.Unix()), t.Name)
				break
			}
		}
	}
}
