package loadtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// scrape reads the unlabelled samples named in want from a Prometheus text
// endpoint. The handful of process and Go metrics needed here are single
// unlabelled lines, so a line scan is enough.
func scrape(ctx context.Context, url string, want ...string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading %s: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		for _, w := range want {
			if name == w {
				if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
					out[name] = v
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", url, err)
	}
	for _, w := range want {
		if _, ok := out[w]; !ok {
			return nil, fmt.Errorf("%s has no %s sample", url, w)
		}
	}
	return out, nil
}

const (
	metricRSS        = "process_resident_memory_bytes"
	metricCPU        = "process_cpu_seconds_total"
	metricHeapInuse  = "go_memstats_heap_inuse_bytes"
	metricStackInuse = "go_memstats_stack_inuse_bytes"
	metricGoroutines = "go_goroutines"
	metricGCCycles   = "go_gc_duration_seconds_count"
)

// serverCPU sums the CPU seconds the target's nodes have used so far.
func serverCPU(ctx context.Context, t target) (float64, error) {
	var sum float64
	for i := range t.nodes() {
		u := t.metricsURL(i)
		if u == "" {
			return 0, fmt.Errorf("no metrics")
		}
		m, err := scrape(ctx, u, metricCPU)
		if err != nil {
			return 0, err
		}
		sum += m[metricCPU]
	}
	return sum, nil
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// runID names one run's conversations, contacts and messages, so that runs
// against the same node never count each other's traffic.
func runID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
