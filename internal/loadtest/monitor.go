package loadtest

import (
	"context"
	"sync"
	"time"
)

// monitor samples the nodes' resource use from their /metrics during the
// load (resident memory, goroutines, Go heap) and reads their CPU time
// before and after. For spawned nodes the peak resident memory comes from
// the kernel (VmHWM), which sees peaks between samples.
type monitor struct {
	cfg     E2EConfig
	cl      *cluster
	cpu0    []float64
	start   time.Time
	mu      sync.Mutex
	samples []Sample
	peak    []float64
	gor0    []float64
	errs    int
}

func newMonitor(cfg E2EConfig, cl *cluster) *monitor {
	n := len(cfg.URLs)
	return &monitor{cfg: cfg, cl: cl, cpu0: make([]float64, n), peak: make([]float64, n), gor0: make([]float64, n)}
}

func (m *monitor) begin(ctx context.Context) error {
	for i, u := range m.cfg.URLs {
		v, err := scrape(ctx, u+"/metrics", metricCPU, metricGoroutines)
		if err != nil {
			return err
		}
		m.cpu0[i], m.gor0[i] = v[metricCPU], v[metricGoroutines]
	}
	m.start = time.Now()
	m.take(ctx)
	return nil
}

// take records one sample of every node.
func (m *monitor) take(ctx context.Context) {
	at := time.Since(m.start)
	for i, u := range m.cfg.URLs {
		v, err := scrape(ctx, u+"/metrics", metricRSS, metricGoroutines, metricHeapInuse)
		m.mu.Lock()
		if err != nil {
			m.errs++
		} else {
			m.samples = append(m.samples, Sample{At: at.Round(time.Second).String(), Seconds: at.Seconds(), Node: i + 1,
				RSSMiB: v[metricRSS] / (1 << 20), HeapMiB: v[metricHeapInuse] / (1 << 20), Goroutines: int(v[metricGoroutines])})
			m.peak[i] = max(m.peak[i], v[metricRSS])
		}
		m.mu.Unlock()
	}
}

// sample runs take every SampleEvery until the returned func is called,
// which takes a last sample.
func (m *monitor) sample(ctx context.Context) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(m.cfg.SampleEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				m.take(ctx)
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		m.take(ctx)
	}
}

// end fills in the nodes' resource use over the run.
func (m *monitor) end(ctx context.Context, r *E2EResult, window time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, u := range m.cfg.URLs {
		use := NodeUse{URL: u, PeakRSSMiB: m.peak[i] / (1 << 20), PeakFrom: "sampled /metrics", GoroutinesBefore: int(m.gor0[i])}
		if v, err := scrape(ctx, u+"/metrics", metricCPU, metricGoroutines); err == nil {
			use.CPUSeconds = v[metricCPU] - m.cpu0[i]
			use.GoroutinesAfter = int(v[metricGoroutines])
		} else {
			m.errs++
		}
		if m.cl != nil {
			n := m.cl.nodes[i]
			use.PID = n.cmd.Process.Pid
			if !n.alive() {
				r.NodeExited = true
			} else if hwm := peakRSS(use.PID); hwm > 0 {
				use.PeakRSSMiB, use.PeakFrom = hwm/(1<<20), "kernel VmHWM"
			}
		}
		use.Cores = use.CPUSeconds / window.Seconds()
		r.NodeCPUSeconds += use.CPUSeconds
		r.Nodes = append(r.Nodes, use)
	}
	r.Samples = m.samples
	r.MetricsErrors = m.errs
}
