package loadtest

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// LexConfig is one `bench lex` run: Workers concurrent sessions, each
// typing Script round and round into RecognizeText for Duration, each
// sending its next turn as soon as the previous answer has arrived.
//
// The client is deliberately lean, so that the figure is the runtime's and
// not the client's: one keep-alive HTTP/1.1 connection per worker, written
// and read directly; bodies encoded and hashed once per script line; and
// requests signed by the SDK's own SigV4 signer, each reused while its
// signature is fresh (see resignAfter). The runtime verifies every one.
type LexConfig struct {
	URL                                  string // base URL of the runtime
	Region, AccessKeyID, SecretAccessKey string
	BotID, AliasID, LocaleID             string
	Script                               []string
	Workers                              int
	Duration                             time.Duration
	// Baseline measures, first and with the same client, a bare handler on
	// loopback answering every call with one fixed RecognizeText response
	// recorded from the runtime (its answer to the script's second line).
	Baseline bool
	Out      io.Writer // the report; may be nil
}

func (c *LexConfig) check() error {
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || u.Scheme != "http" || u.Host == "":
		return fmt.Errorf("-url %q is not an http:// base URL (the load speaks plain HTTP/1.1)", c.URL)
	case c.Region == "" || c.AccessKeyID == "" || c.SecretAccessKey == "":
		return errors.New("a region and a key pair to sign with are required")
	case c.BotID == "" || c.AliasID == "" || c.LocaleID == "":
		return errors.New("a bot id, alias id and locale id are required")
	case len(c.Script) == 0:
		return errors.New("the script has no lines")
	case c.Workers < 1 || c.Workers > 1024:
		return errors.New("-workers must be between 1 and 1024")
	case c.Duration < 100*time.Millisecond || c.Duration > MaxDuration:
		return fmt.Errorf("-duration must be between 100ms and %s", MaxDuration)
	}
	for _, l := range c.Script {
		if l == "" {
			return errors.New("the script has an empty line; RecognizeText needs text")
		}
	}
	return nil
}

// LexResult is what one target measured.
type LexResult struct {
	Target  string
	Turns   int
	Elapsed time.Duration
	Latency summary
	// CPU is this process's CPU time over the run: the load generator's,
	// and for the baseline the bare handler's too.
	CPU time.Duration
}

// PerSec is the throughput in turns per second.
func (r LexResult) PerSec() float64 { return float64(r.Turns) / r.Elapsed.Seconds() }

// P50 and P99 are the latency percentiles.
func (r LexResult) P50() time.Duration { return r.Latency.P50 }
func (r LexResult) P99() time.Duration { return r.Latency.P99 }

// CPUPerTurn is this process's CPU time per turn.
func (r LexResult) CPUPerTurn() time.Duration {
	if r.Turns == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Turns)
}

// LexReport holds the run's results; Baseline is nil when not asked for.
type LexReport struct {
	Baseline *LexResult
	Runtime  LexResult
}

// RunLex measures cfg.URL, and first the baseline when asked, and writes
// the report to cfg.Out.
func RunLex(ctx context.Context, cfg LexConfig) (LexReport, error) {
	var rep LexReport
	if err := cfg.check(); err != nil {
		return rep, err
	}
	c := newLexClient(cfg)
	if cfg.Baseline {
		// The recorded answer doubles as a check that the target answers
		// at all, before any load.
		fixed, err := c.record(ctx, 1%len(cfg.Script))
		if err != nil {
			return rep, fmt.Errorf("recording the baseline's answer from %s: %w", cfg.URL, err)
		}
		bare, err := startBareLex(fixed)
		if err != nil {
			return rep, err
		}
		r, err := c.load(ctx, bare.url, "bare handler")
		bare.close()
		if err != nil {
			return rep, fmt.Errorf("baseline: %w", err)
		}
		rep.Baseline = &r
	}
	r, err := c.load(ctx, cfg.URL, cfg.URL)
	if err != nil {
		return rep, fmt.Errorf("load on %s: %w", cfg.URL, err)
	}
	rep.Runtime = r
	if cfg.Out != nil {
		lexReport(cfg.Out, cfg, rep)
	}
	return rep, nil
}

type lexClient struct {
	cfg    LexConfig
	signer *v4.Signer
	creds  aws.Credentials
	bodies [][]byte
	hashes []string
}

func newLexClient(cfg LexConfig) *lexClient {
	c := &lexClient{
		cfg:    cfg,
		signer: v4.NewSigner(),
		creds:  aws.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey},
	}
	for _, line := range cfg.Script {
		b, _ := json.Marshal(struct {
			Text string `json:"text"`
		}{line})
		sum := sha256.Sum256(b)
		c.bodies = append(c.bodies, b)
		c.hashes = append(c.hashes, hex.EncodeToString(sum[:]))
	}
	return c
}

// record returns the target's answer to script line i in a new session.
func (c *lexClient) record(ctx context.Context, i int) ([]byte, error) {
	lc, err := c.conn(c.cfg.URL, lexSession("record", 0))
	if err != nil {
		return nil, err
	}
	defer lc.close()
	body, err := lc.turn(ctx, i)
	return bytes.Clone(body), err
}

// lexSession names a worker's session; the time in the name keeps runs
// from continuing each other's dialogs.
func lexSession(kind string, worker int) string {
	return fmt.Sprintf("bench-%s-%d-%d", kind, worker, time.Now().UnixNano())
}

// resignAfter is how long a signed request is reused. A session sends the
// same few bodies over and over, so a request signed once stays valid
// until its X-Amz-Date leaves the server's skew window (five minutes at
// AWS and in lex-local); re-signing every minute keeps well inside it, and
// the server still verifies every request in full.
const resignAfter = time.Minute

// lexConn is one worker's session over one keep-alive HTTP/1.1 connection,
// written and read directly: net/http's client would spend more CPU per
// turn than the handler under test.
type lexConn struct {
	c       *lexClient
	base    *url.URL
	session string
	conn    net.Conn
	br      *bufio.Reader
	body    bytes.Buffer
	signed  []signedRequest // per script line
}

type signedRequest struct {
	at  time.Time
	raw []byte
}

func (c *lexClient) conn(base, session string) (*lexConn, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil {
		return nil, err
	}
	return &lexConn{c: c, base: u, session: session, signed: make([]signedRequest, len(c.bodies))}, nil
}

func (lc *lexConn) close() {
	if lc.conn != nil {
		_ = lc.conn.Close()
		lc.conn = nil
	}
}

// request returns script line i as signed request bytes.
func (lc *lexConn) request(ctx context.Context, i int, now time.Time) ([]byte, error) {
	sr := &lc.signed[i]
	if sr.raw != nil && now.Sub(sr.at) < resignAfter {
		return sr.raw, nil
	}
	cfg := lc.c.cfg
	u := *lc.base
	u.Path += "/bots/" + cfg.BotID + "/botAliases/" + cfg.AliasID + "/botLocales/" + cfg.LocaleID +
		"/sessions/" + lc.session + "/text"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(lc.c.bodies[i]))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if err := lc.c.signer.SignHTTP(ctx, lc.c.creds, req, lc.c.hashes[i], "lex", cfg.Region, now); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		return nil, err
	}
	*sr = signedRequest{at: now, raw: b.Bytes()}
	return sr.raw, nil
}

// turn sends script line i as one RecognizeText call and returns the body
// of a 200 answer, valid until the next turn; anything else is an error.
func (lc *lexConn) turn(ctx context.Context, i int) ([]byte, error) {
	now := time.Now()
	raw, err := lc.request(ctx, i, now)
	if err != nil {
		return nil, err
	}
	if lc.conn == nil {
		d := net.Dialer{Timeout: 5 * time.Second}
		if lc.conn, err = d.DialContext(ctx, "tcp", lc.base.Host); err != nil {
			return nil, err
		}
		lc.br = bufio.NewReaderSize(lc.conn, 16<<10)
	}
	// The deadline bounds a stuck server; cancelling ctx is noticed between
	// turns.
	_ = lc.conn.SetDeadline(now.Add(10 * time.Second))
	if _, err := lc.conn.Write(raw); err != nil {
		lc.close()
		return nil, err
	}
	resp, err := http.ReadResponse(lc.br, nil)
	if err != nil {
		lc.close()
		return nil, err
	}
	lc.body.Reset()
	_, err = lc.body.ReadFrom(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil || resp.Close {
		lc.close()
	}
	if err != nil {
		return nil, err
	}
	body := lc.body.Bytes()
	line := lc.c.cfg.Script[i]
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%q: HTTP %d %s: %.300s", line, resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), body)
	}
	if !bytes.Contains(body, []byte(`"sessionState"`)) {
		return nil, fmt.Errorf("%q: the answer has no sessionState: %.300s", line, body)
	}
	return body, nil
}

// load runs the workers against base for the configured duration.
func (c *lexClient) load(ctx context.Context, base, name string) (LexResult, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	conns := make([]*lexConn, c.cfg.Workers)
	defer func() {
		for _, lc := range conns {
			if lc != nil {
				lc.close()
			}
		}
	}()
	// One pass of the script per worker first, unmeasured: connections
	// open, requests are signed and the runtime's sessions exist before the
	// clock starts.
	err := forEach(ctx, c.cfg.Workers, c.cfg.Workers, func(ctx context.Context, w int) error {
		lc, err := c.conn(base, lexSession("load", w))
		if err != nil {
			return err
		}
		conns[w] = lc
		for i := range c.cfg.Script {
			if _, err := lc.turn(ctx, i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return LexResult{}, fmt.Errorf("warm-up: %w", err)
	}

	lat := make([]latencies, c.cfg.Workers)
	var wg sync.WaitGroup
	cpu0 := processCPU()
	start := time.Now()
	deadline := start.Add(c.cfg.Duration)
	for w, lc := range conns {
		wg.Go(func() {
			// A rough capacity guess keeps appends from copying during the run.
			lat[w] = make(latencies, 0, 1<<14)
			for i := 0; ctx.Err() == nil; i++ {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				if _, err := lc.turn(ctx, i%len(c.cfg.Script)); err != nil {
					cancel(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	if err := context.Cause(ctx); err != nil {
		return LexResult{}, err
	}
	var all latencies
	for _, l := range lat {
		all = append(all, l...)
	}
	return LexResult{Target: name, Turns: len(all), Elapsed: elapsed, Latency: all.summarize(), CPU: cpu}, nil
}

type bareLex struct {
	url string
	srv *http.Server
	ln  net.Listener
}

// startBareLex serves fixed to every request on a loopback port, after
// reading the request as any handler must.
func startBareLex(fixed []byte) (*bareLex, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	srv := &http.Server{
		Handler:           BareLexHandler(fixed),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	return &bareLex{url: "http://" + ln.Addr().String(), srv: srv, ln: ln}, nil
}

func (b *bareLex) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.srv.Shutdown(ctx)
}

// BareLexHandler is the baseline's server: it reads the request and answers
// fixed, with the headers a RecognizeText answer carries, and does nothing
// else: no signature check, no decoding, no dialog.
func BareLexHandler(fixed []byte) http.Handler {
	length := fmt.Sprint(len(fixed))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		h.Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000000")
		_, _ = w.Write(fixed)
	})
}

func lexReport(w io.Writer, cfg LexConfig, rep LexReport) {
	fmt.Fprintf(w, "RecognizeText, %d workers, %s each, %d-line script, locale %s\n\n",
		cfg.Workers, cfg.Duration, len(cfg.Script), cfg.LocaleID)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tturns\tturns/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\tclient CPU µs/turn\t")
	rows := []LexResult{rep.Runtime}
	if rep.Baseline != nil {
		rows = []LexResult{*rep.Baseline, rep.Runtime}
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%.1f\t\n", r.Target, r.Turns, r.PerSec(),
			ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max),
			float64(r.CPUPerTurn().Nanoseconds())/1e3)
	}
	if b := rep.Baseline; b != nil {
		r := rep.Runtime
		fmt.Fprintf(tw, "ratio\t\t×%.2f\t×%.2f\t×%.2f\t×%.2f\t×%.2f\t\t\n", r.PerSec()/b.PerSec(),
			ratio(r.Latency.P50, b.Latency.P50), ratio(r.Latency.P90, b.Latency.P90),
			ratio(r.Latency.P99, b.Latency.P99), ratio(r.Latency.Max, b.Latency.Max))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nclient CPU: this process; for the bare handler it includes the handler")
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// DemoScript is what each simulated contact types into the demo bot, round
// and round: the welcome, an order lookup over two turns (the second line
// answers the slot prompt), the carousel, two questions, thanks, a miss and
// goodbye. Turns thus cover matching, slot elicitation, rich payloads and
// the fallback.
var DemoScript = []string{
	"kmConversationStarted", "where is my order", "A1B2C3", "show me your products",
	"how long does shipping take", "what are your opening hours", "thanks", "purple monkey dishwasher", "bye",
}

const lexUsage = `usage: switchboard bench lex [flags]

Drives RecognizeText on a running Lex runtime (switchboard lex-local, by
default its demo bot) with a lean SigV4-signing client and reports p50/p99
latency and turns/s, beside a bare handler measured in the same run with
the same client. See docs/benchmarks.md.

flags:
`

// ParseLex reads `bench lex` flags. The key pair defaults to
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the region to AWS_REGION,
// as for lex-local.
func ParseLex(args []string, getenv func(string) string, stderr io.Writer) (LexConfig, error) {
	cfg := LexConfig{Script: DemoScript}
	fs := flag.NewFlagSet("bench lex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, lexUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:4010", "base URL of the Lex runtime")
	fs.StringVar(&cfg.Region, "region", cmp.Or(getenv("AWS_REGION"), "us-east-1"), "the region to sign for")
	fs.StringVar(&cfg.AccessKeyID, "access-key-id", getenv("AWS_ACCESS_KEY_ID"), "the access key id to sign with")
	fs.StringVar(&cfg.SecretAccessKey, "secret-access-key", getenv("AWS_SECRET_ACCESS_KEY"), "the secret access key to sign with")
	fs.StringVar(&cfg.BotID, "bot", "SBDEMOBOT1", "bot id (the default is the demo bot)")
	fs.StringVar(&cfg.AliasID, "alias", "TSTALIASID", "bot alias id")
	fs.StringVar(&cfg.LocaleID, "locale", "en_US", "locale id")
	fs.IntVar(&cfg.Workers, "workers", 4, "concurrent sessions, each sending its next turn when the previous answer arrives")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to load each target (at most "+MaxDuration.String()+")")
	fs.BoolVar(&cfg.Baseline, "baseline", true, "measure a bare in-process handler with a fixed answer first")
	script := fs.String("script", "", "lines to type, separated by '|' (default: the demo bot's nine-turn script)")
	if err := fs.Parse(args); err != nil {
		return LexConfig{}, err
	}
	if fs.NArg() > 0 {
		return LexConfig{}, fmt.Errorf("bench lex: unexpected argument %q", fs.Arg(0))
	}
	if *script != "" {
		cfg.Script = strings.Split(*script, "|")
	}
	if err := cfg.check(); err != nil {
		return LexConfig{}, fmt.Errorf("bench lex: %w", err)
	}
	return cfg, nil
}
