// Package browsertest starts a headless Chromium for tests through chromedp,
// with the project's rule for real services: skip with a reason when no
// Chromium is installed, fail instead when SWITCHBOARD_REQUIRE_BROWSER=1.
//
// A Browser records what a test needs to judge a page beyond its DOM: the
// console errors and uncaught exceptions, and every alert, confirm or prompt
// dialog (the visible effect of an injected script). When the test fails,
// a screenshot of the page is written next to the test's other files.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/switchboard-chat/switchboard/internal/testsvc"
)

const (
	// RequireEnv turns a missing browser from a skip into a failure.
	RequireEnv = "SWITCHBOARD_REQUIRE_BROWSER"
	// PathEnv names the Chromium binary when it is not on the usual paths.
	PathEnv = "SWITCHBOARD_CHROMIUM"
	// ScreenshotDirEnv, when set, is a directory that every named
	// screenshot is also written to, for keeping good ones in docs/.
	ScreenshotDirEnv = "SWITCHBOARD_SCREENSHOT_DIR"
)

// DefaultTimeout bounds each Do, Eval and Wait unless the test says more.
const DefaultTimeout = 20 * time.Second

// candidates are the names Chromium goes by on Debian, Ubuntu and in the
// Chrome for Testing builds, in order of preference.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless-shell"}

// FindChromium returns the path of a Chromium binary: PathEnv when set,
// otherwise the first candidate on PATH or in /usr/bin.
func FindChromium() (string, error) {
	if p := os.Getenv(PathEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", PathEnv, p, err)
		}
		return p, nil
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
		if p := filepath.Join("/usr/bin", c); fileExists(p) {
			return p, nil
		}
	}
	return "", errors.New("no chromium, chromium-browser or google-chrome found")
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Browser is one headless Chromium with one tab, owned by a test.
type Browser struct {
	t   testing.TB
	ctx context.Context
	dir string

	mu      sync.Mutex
	console []string
	dialogs []string
	shots   int
}

// Option adjusts how the browser starts.
type Option func(*config)

type config struct {
	width, height int
}

// WindowSize sets the viewport; the default is a 1280×800 desktop.
func WindowSize(w, h int) Option { return func(c *config) { c.width, c.height = w, h } }

// Start launches Chromium for t, or skips t (fails it under RequireEnv) when
// there is none. The browser is closed when t ends, after a screenshot if t
// failed.
func Start(t testing.TB, opts ...Option) *Browser {
	t.Helper()
	cfg := config{width: 1280, height: 800}
	for _, o := range opts {
		o(&cfg)
	}
	bin, err := FindChromium()
	if err != nil {
		testsvc.Unavailable(t, "Chromium", PathEnv, RequireEnv, err)
	}
	profile := t.TempDir()
	alloc := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(cfg.width, cfg.height),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to start its sandbox as root, which is how
		// containers and CI usually run tests.
		alloc = append(alloc, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), alloc...)
	ctx, cancelTab := chromedp.NewContext(actx)
	b := &Browser{t: t, ctx: ctx, dir: t.TempDir()}

	// The first Do starts the browser and ties its life to ctx, so it
	// must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		cancelTab()
		cancelAlloc()
		testsvc.Unavailable(t, "Chromium ("+bin+")", PathEnv, RequireEnv, err)
	}
	b.watch()
	t.Cleanup(func() {
		if t.Failed() {
			b.Screenshot("failure")
			if errs := b.ConsoleErrors(); len(errs) > 0 {
				t.Logf("browser console errors:\n  %s", strings.Join(errs, "\n  "))
			}
		}
		cancelTab()
		cancelAlloc()
	})
	return b
}

// watch records console errors and dismisses every dialog. A dialog left
// open would block the page, and with it the rest of the test.
func (b *Browser) watch() {
	console := chromedp.Console(b.ctx)
	dialogs := chromedp.Events(b.ctx, page.JavascriptDialogOpening)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				b.mu.Lock()
				b.console = append(b.console, fmt.Sprintf("%s %s:%d %s", m.Type, m.URL, m.Line+1, m.Text))
				b.mu.Unlock()
			}
		}
	}()
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, string(ev.Type)+": "+ev.Message)
			b.mu.Unlock()
			chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
}

// Context is the tab's context, for chromedp calls the helpers do not cover.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs actions within DefaultTimeout and fails the test on an error.
func (b *Browser) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, DefaultTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression, awaiting a promise, and decodes
// its value into T. An exception or a timeout fails the test.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, DefaultTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", short(expr), err)
	}
	return v
}

// Wait polls a JavaScript expression until it is truthy, failing the test
// with what when it is not within timeout (DefaultTimeout when zero).
func (b *Browser) Wait(what, expr string, timeout time.Duration) {
	b.t.Helper()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(b.ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")",
		chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		b.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// Eval0 evaluates a JavaScript expression for its effect only.
func (b *Browser) Eval0(expr string) {
	b.t.Helper()
	Eval[chromedp.Void](b, expr)
}

// Navigate opens url and waits for its load event.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.Do("navigate to "+url, chromedp.Navigate(url))
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// Screenshot writes a PNG of the viewport to the test's temporary directory
// (and to ScreenshotDirEnv when set) and returns its path. A failure to take
// it is logged, not fatal: it usually runs while a test is already failing.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.mu.Lock()
	b.shots++
	n := b.shots
	b.mu.Unlock()
	file := fmt.Sprintf("%02d-%s.png", n, unsafeName.ReplaceAllString(name, "_"))
	p := filepath.Join(b.dir, file)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.t.Logf("screenshot: %s", p)
	if dir := os.Getenv(ScreenshotDirEnv); dir != "" && name != "failure" {
		keep := filepath.Join(dir, unsafeName.ReplaceAllString(name, "_")+".png")
		if err := os.WriteFile(keep, png, 0o644); err != nil {
			b.t.Logf("keep screenshot %s: %v", keep, err)
		}
	}
	return p
}

// ConsoleErrors returns the console errors and uncaught exceptions so far.
func (b *Browser) ConsoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// Dialogs returns every alert, confirm, prompt or beforeunload dialog the
// page opened so far, as "type: message".
func (b *Browser) Dialogs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...)
}

func short(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
