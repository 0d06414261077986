package lexbot

import "github.com/prometheus/client_golang/prometheus"

// metrics are labelled by Switchboard's bot id, whose number admins
// control, and by closed sets of error types and give-up reasons; never by
// conversation or by anything Lex sends back.
type metrics struct {
	latency   *prometheus.HistogramVec
	errors    *prometheus.CounterVec
	fallbacks *prometheus.CounterVec
	giveUps   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "switchboard",
			Subsystem: "lex",
			Name:      "request_duration_seconds",
			Help:      "Latency of Lex RecognizeText calls, failed ones included, by bot.",
			Buckets:   []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"bot"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard",
			Subsystem: "lex",
			Name:      "errors_total",
			Help:      "Failed Lex RecognizeText calls, by bot and error type (AWS's exception name, timeout, connection, ...).",
		}, []string{"bot", "type"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard",
			Subsystem: "lex",
			Name:      "fallbacks_total",
			Help:      "Turns Lex answered with FallbackIntent, by bot.",
		}, []string{"bot"}),
		giveUps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "switchboard",
			Subsystem: "lex",
			Name:      "give_ups_total",
			Help:      "Turns on which the Lex bot gave up, by bot and reason (failed_intent, fallbacks, handoff_attribute).",
		}, []string{"bot", "reason"}),
	}
	reg.MustRegister(m.latency, m.errors, m.fallbacks, m.giveUps)
	return m
}
