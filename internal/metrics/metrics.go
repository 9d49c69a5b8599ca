// Package metrics defines socialroute's Prometheus metrics in one place, so
// that every component reports under consistent names and /metrics shows
// them all. Nothing here ever carries a token, a secret or post text.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of socialroute's metrics and the registry they live in.
// A nil *Metrics is valid and records nothing.
type Metrics struct {
	registry *prometheus.Registry

	received       *prometheus.CounterVec // source, result: accepted | duplicate
	rejected       *prometheus.CounterVec // source, reason
	bodyBytes      prometheus.Gauge
	classified     *prometheus.CounterVec // class, unsure
	delivered      *prometheus.CounterVec // class
	latency        prometheus.Histogram
	failures       *prometheus.CounterVec // kind: rate_limited | retry | permanent
	reconnects     prometheus.Counter
	interactions   *prometheus.CounterVec // action
	redeliveries   prometheus.Counter
	remindersSent  *prometheus.CounterVec // kind
	incidentAlerts prometheus.Counter
}

// New creates the metrics and registers them, with Go runtime and process
// metrics, in a registry of their own.
func New() *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.received = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "socialroute_posts_received_total", Help: "Posts taken in by the webhooks, by source and result (accepted, duplicate).",
	}, []string{"source", "result"})
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "socialroute_webhook_rejected_total", Help: "Webhook requests or posts refused, by source and reason.",
	}, []string{"source", "reason"})
	m.classified = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "socialroute_posts_classified_total", Help: "Posts routed, by class and whether the model was unsure.",
	}, []string{"class", "unsure"})
	m.delivered = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "socialroute_posts_delivered_total", Help: "Posts delivered to Slack, by class.",
	}, []string{"class"})
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "socialroute_delivery_latency_seconds",
		Help:    "Time from a post's arrival at the webhook to its message in Slack.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800},
	})
	m.failures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "socialroute_delivery_failures_total", Help: "Failed delivery attempts, by kind: rate_limited (429), retry (5xx, network), permanent (parked).",
	}, []string{"kind"})
	m.reconnects = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "socialroute_socket_mode_reconnects_total", Help: "Socket Mode connections made after the first.",
	})
	m.interactions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "socialroute_interactions_total", Help: "Button clicks and menu choices carried out, by action.",
	}, []string{"action"})
	m.redeliveries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "socialroute_envelope_redeliveries_total", Help: "Envelopes Slack delivered again that were recognised and ignored.",
	})
	m.remindersSent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "socialroute_reminders_sent_total", Help: "Reminders posted, by kind (claim, resolve).",
	}, []string{"kind"})
	m.incidentAlerts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "socialroute_incident_spike_alerts_total", Help: "Spike alerts raised on reputation incidents.",
	})
	m.registry.MustRegister(m.received, m.rejected, m.classified, m.delivered, m.latency, m.failures,
		m.reconnects, m.interactions, m.redeliveries, m.remindersSent, m.incidentAlerts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.bodyBytes = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "socialroute_webhook_body_bytes", Help: "Bytes of webhook request bodies being read or handled now, at most http.max_body_memory.",
	})
	m.registry.MustRegister(m.bodyBytes)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// OutboxStats is what WatchOutbox reads at every scrape.
type OutboxStats struct {
	Pending, Parked int
	Oldest          time.Time // arrival of the oldest pending post; zero if none
}

// WatchOutbox reports the outbox's depth and the age of its oldest entry,
// read from stats once per scrape.
func (m *Metrics) WatchOutbox(stats func() (OutboxStats, error), now func() time.Time) {
	if m == nil {
		return
	}
	m.registry.MustRegister(&outboxCollector{stats: stats, now: now})
}

// outboxCollector turns one read of the outbox into its three gauges, so
// a scrape reads the outbox once, not once per gauge.
type outboxCollector struct {
	stats func() (OutboxStats, error)
	now   func() time.Time
}

var (
	outboxPendingDesc = prometheus.NewDesc("socialroute_outbox_pending", "Posts waiting for delivery to Slack.", nil, nil)
	outboxParkedDesc  = prometheus.NewDesc("socialroute_outbox_parked", "Posts whose delivery failed permanently, waiting for an operator.", nil, nil)
	outboxAgeDesc     = prometheus.NewDesc("socialroute_outbox_oldest_age_seconds", "Age of the oldest post waiting for delivery; 0 when none waits.", nil, nil)
)

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxPendingDesc
	ch <- outboxParkedDesc
	ch <- outboxAgeDesc
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.stats()
	if err != nil {
		return // the store is closed or failing: no outbox figures
	}
	age := 0.0
	if !st.Oldest.IsZero() {
		age = c.now().Sub(st.Oldest).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(outboxPendingDesc, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(outboxParkedDesc, prometheus.GaugeValue, float64(st.Parked))
	ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, age)
}

// Received counts a post a webhook took in.
func (m *Metrics) Received(source string, duplicate bool) {
	if m == nil {
		return
	}
	result := "accepted"
	if duplicate {
		result = "duplicate"
	}
	m.received.WithLabelValues(source, result).Inc()
}

// Rejected counts a refused webhook request or post. reason is one of a
// small fixed set (method, source, size, busy, content_type, signature,
// body, timestamp, stale, store), never free text.
func (m *Metrics) Rejected(source, reason string) {
	if m == nil {
		return
	}
	m.rejected.WithLabelValues(source, reason).Inc()
}

// BodyBytes sets the bytes of request bodies being read or handled.
func (m *Metrics) BodyBytes(n int64) {
	if m != nil {
		m.bodyBytes.Set(float64(n))
	}
}

// Classified counts a routing decision.
func (m *Metrics) Classified(class string, unsure bool) {
	if m == nil {
		return
	}
	u := "false"
	if unsure {
		u = "true"
	}
	m.classified.WithLabelValues(class, u).Inc()
}

// Delivered counts a post that reached Slack after waiting d.
func (m *Metrics) Delivered(class string, d time.Duration) {
	if m == nil {
		return
	}
	m.delivered.WithLabelValues(class).Inc()
	m.latency.Observe(d.Seconds())
}

// DeliveryFailed counts a failed attempt: rate_limited, retry or permanent.
func (m *Metrics) DeliveryFailed(kind string) {
	if m == nil {
		return
	}
	m.failures.WithLabelValues(kind).Inc()
}

// Reconnected counts a Socket Mode reconnection.
func (m *Metrics) Reconnected() {
	if m != nil {
		m.reconnects.Inc()
	}
}

// Interaction counts a click carried out.
func (m *Metrics) Interaction(action string) {
	if m != nil {
		m.interactions.WithLabelValues(action).Inc()
	}
}

// Redelivery counts an envelope recognised as a redelivery.
func (m *Metrics) Redelivery() {
	if m != nil {
		m.redeliveries.Inc()
	}
}

// ReminderSent counts a reminder of kind claim or resolve.
func (m *Metrics) ReminderSent(kind string) {
	if m != nil {
		m.remindersSent.WithLabelValues(kind).Inc()
	}
}

// SpikeAlert counts an incident spike alert.
func (m *Metrics) SpikeAlert() {
	if m != nil {
		m.incidentAlerts.Inc()
	}
}
