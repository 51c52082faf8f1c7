package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"parley/internal/record"
)

// metrics are the server's Prometheus metrics, in a registry of its own.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	appended prometheus.Counter
	feeds    prometheus.Gauge
	handler  http.Handler
}

func newMetrics(rec *record.Record) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_http_requests_total", Help: "HTTP requests answered, by route and status code.",
	}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "parley_http_request_duration_seconds", Help: "Time to answer an HTTP request, by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	m.appended = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_entries_appended_total", Help: "Entries appended through this server (its rate is the append rate).",
	})
	m.feeds = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "parley_feed_clients", Help: "Clients following the live feed.",
	})
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_tree_size", Help: "Entries on the record at its latest checkpoint.",
	}, func() float64 { return float64(rec.Log.Size()) })
	m.reg.MustRegister(m.requests, m.latency, m.appended, m.feeds, size,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

func (m *metrics) observe(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	s.metrics.handler.ServeHTTP(w, r)
	return nil
}
