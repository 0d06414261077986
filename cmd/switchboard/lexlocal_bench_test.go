package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lexruntimev2"
)

// benchScript is what each simulated contact types, round and round: the
// welcome, an order lookup over two turns, the carousel, two questions,
// thanks, a miss and goodbye. Turns thus cover matching, slot elicitation,
// rich payloads and the fallback.
var benchScript = []string{
	"kmConversationStarted", "where is my order", "A1B2C3", "show me your products",
	"how long does shipping take", "what are your opening hours", "thanks", "purple monkey dishwasher", "bye",
}

// benchClients is how many contacts talk at once, each in its own session.
const benchClients = 4

// baseline holds what the baseline sub-benchmark measured last, so the
// runtime's sub-benchmark can report its cost relative to it.
var baseline struct {
	p50, perSec float64
}

// BenchmarkRecognizeText measures RecognizeText turns through the real SDK
// client over loopback HTTP against `switchboard lex-local` serving the demo
// bot, and first, in the same run, the same client against a bare handler
// that answers every request with one fixed, recorded RecognizeText
// response: the cost of the SDK, SigV4 signing and HTTP alone.
func BenchmarkRecognizeText(b *testing.B) {
	url := startLexLocal(b, lexLocalConfig{Addr: "127.0.0.1:0", Region: testRegion, AccessKeyID: testKeyID, SecretAccessKey: testSecret})

	// The baseline answers with a real response of the runtime, recorded
	// from the order-status turn: a mid-sized answer (a slot prompt, the
	// session state with its null slot, the interpretations).
	rec := &lastBody{next: http.DefaultTransport}
	_, err := recognizeText(context.Background(), benchClient(url, rec), "en_US", "record", "where is my order")
	if err != nil {
		b.Fatal(err)
	}
	fixed := rec.body
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000000")
		_, _ = w.Write(fixed)
	}))
	b.Cleanup(bare.Close)

	b.Run("baseline", func(b *testing.B) {
		baseline.p50, baseline.perSec = benchTurns(b, bare.URL)
	})
	b.Run("lexlocal", func(b *testing.B) {
		p50, perSec := benchTurns(b, url)
		if baseline.perSec > 0 {
			b.ReportMetric(p50/baseline.p50, "x_baseline_p50")
			b.ReportMetric(perSec/baseline.perSec, "x_baseline_turns/s")
		}
	})
}

// benchTurns runs b.N turns spread over benchClients concurrent sessions and
// reports latency percentiles and throughput; it returns the p50 in
// microseconds and the turns per second.
func benchTurns(b *testing.B, url string) (p50us, perSec float64) {
	rt := benchClient(url, nil)
	ctx := context.Background()
	var next atomic.Int64
	lat := make([][]time.Duration, benchClients)
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := processCPU(b)
	start := time.Now()
	for c := range benchClients {
		wg.Go(func() {
			session := fmt.Sprintf("bench-%d-%d", c, b.N)
			for i := 0; next.Add(1) <= int64(b.N); i++ {
				t0 := time.Now()
				_, err := recognizeText(ctx, rt, "en_US", session, benchScript[i%len(benchScript)])
				lat[c] = append(lat[c], time.Since(t0))
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU(b) - cpu0
	b.StopTimer()

	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[int(p*float64(len(all)-1))].Nanoseconds()) / 1e3
	}
	perSec = float64(len(all)) / elapsed.Seconds()
	b.ReportMetric(pct(0.50), "p50_us")
	b.ReportMetric(pct(0.99), "p99_us")
	b.ReportMetric(perSec, "turns/s")
	// CPU time of the whole process (clients and server) per turn: unlike
	// the rates, other processes on a shared machine barely move it, and
	// the runtime's own cost is the difference to the baseline's.
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(all)), "cpu_us/turn")
	return pct(0.50), perSec
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchClient is a plain SDK client, with enough idle connections per host
// that concurrent sessions reuse them instead of dialling.
func benchClient(url string, rt http.RoundTripper) *lexruntimev2.Client {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = 2 * benchClients
	})
	opts := lexruntimev2.Options{
		Region: testRegion, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1, HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
	}
	if rt != nil {
		opts.HTTPClient = &http.Client{Transport: rt}
	}
	return lexruntimev2.New(opts)
}

// lastBody keeps the body of the last response it carried.
type lastBody struct {
	next http.RoundTripper
	body []byte
}

func (l *lastBody) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	l.body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(l.body))
	return resp, err
}
