package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lexruntimev2"

	"github.com/switchboard-chat/switchboard/internal/lexlocal/demobot"
	"github.com/switchboard-chat/switchboard/internal/loadtest"
)

// benchScript is what each simulated contact types, round and round; the
// lean load generator types the same.
var benchScript = loadtest.DemoScript

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

// BenchmarkRecognizeTextLean measures the runtime as `switchboard bench lex`
// does: the lean load generator of internal/loadtest (keep-alive
// HTTP/1.1, SigV4-signed requests, benchClients workers for a fixed time)
// against `switchboard lex-local` serving the demo bot, and first, in the
// same run, against a bare handler with a fixed recorded answer. Each
// iteration is one such run of 2×leanDuration; use -benchtime 1x.
func BenchmarkRecognizeTextLean(b *testing.B) {
	url := startLexLocal(b, lexLocalConfig{Addr: "127.0.0.1:0", Region: testRegion, AccessKeyID: testKeyID, SecretAccessKey: testSecret})
	cfg := loadtest.LexConfig{
		URL: url, Region: testRegion, AccessKeyID: testKeyID, SecretAccessKey: testSecret,
		BotID: demobot.ID, AliasID: "TSTALIASID", LocaleID: "en_US", Script: benchScript,
		Workers: benchClients, Duration: leanDuration, Baseline: true,
	}
	var rep loadtest.LexReport
	for b.Loop() {
		var err error
		if rep, err = loadtest.RunLex(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
	}
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	base, r := rep.Baseline, rep.Runtime
	b.ReportMetric(us(base.P50()), "base_p50_us")
	b.ReportMetric(us(base.P99()), "base_p99_us")
	b.ReportMetric(base.PerSec(), "base_turns/s")
	b.ReportMetric(us(base.CPUPerTurn()), "base_cpu_us/turn")
	b.ReportMetric(us(r.P50()), "p50_us")
	b.ReportMetric(us(r.P99()), "p99_us")
	b.ReportMetric(r.PerSec(), "turns/s")
	// In one process: the generator's CPU and the runtime's together.
	b.ReportMetric(us(r.CPUPerTurn()), "cpu_us/turn")
	b.ReportMetric(us(r.P50())/us(base.P50()), "x_baseline_p50")
	b.ReportMetric(r.PerSec()/base.PerSec(), "x_baseline_turns/s")
}

// leanDuration is how long BenchmarkRecognizeTextLean loads each target.
const leanDuration = 5 * time.Second

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

// TestBenchLexCommand runs `switchboard bench lex` briefly against
// `switchboard lex-local`, keys and region from the environment as a user
// would give them.
func TestBenchLexCommand(t *testing.T) {
	url := startLexLocal(t, lexLocalConfig{Addr: "127.0.0.1:0", Region: testRegion, AccessKeyID: testKeyID, SecretAccessKey: testSecret})
	vars := map[string]string{"AWS_ACCESS_KEY_ID": testKeyID, "AWS_SECRET_ACCESS_KEY": testSecret, "AWS_REGION": testRegion}
	var stdout, stderr bytes.Buffer
	if err := bench([]string{"lex", "-url", url, "-duration", "200ms", "-workers", "2"}, env(vars), &stdout, &stderr); err != nil {
		t.Fatalf("bench lex: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"bare handler", url, "turns/s", "ratio"} {
		if !bytes.Contains(stdout.Bytes(), []byte(want)) {
			t.Errorf("report lacks %q:\n%s", want, stdout.String())
		}
	}
	vars["AWS_SECRET_ACCESS_KEY"] = "wrong"
	stdout.Reset()
	err := bench([]string{"lex", "-url", url, "-duration", "200ms"}, env(vars), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") || stdout.Len() != 0 {
		t.Fatalf("wrong secret: err %v, report %q", err, stdout.String())
	}
}
