package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/browsertest"
	"github.com/switchboard-chat/switchboard/internal/webvendor"
)

// page serves the vendored modules and one HTML page that uses all of them,
// the way the widget and the dashboard do.
func page(t *testing.T, body string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(webvendor.Pattern, webvendor.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html><head><link rel="icon" href="data:,"><script type="importmap">` + string(webvendor.ImportMap()) + `</script></head><body>` + body + `</body></html>`))
	})
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("pong")) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestVendoredModulesRunInTheBrowser(t *testing.T) {
	srv := page(t, strings.ReplaceAll(`<div id="app"></div><script type="module">
import { h, render } from "preact";
import { useState } from "preact/hooks";
import htm from "htm";
import DOMPurify from "dompurify";
const html = htm.bind(h);
function App() {
  const [n, setN] = useState(0);
  return html~<button id="b" onClick=${() => setN(n + 1)}>clicked ${n}</button>
    <p id="clean" dangerouslySetInnerHTML=${{ __html: DOMPurify.sanitize('<b>ok</b><img src=x onerror="window.pwned=1">') }}></p>~;
}
render(html~<${App} />~, document.getElementById("app"));
</script>`, "~", "`"))
	b := browsertest.Start(t)
	b.Navigate(srv.URL + "/")
	b.Wait("the Preact app", `document.getElementById("b")`, 0)
	b.Eval0(`document.getElementById("b").click()`)
	b.Wait("a re-render after the click", `document.getElementById("b").textContent === "clicked 1"`, 0)
	clean := browsertest.Eval[string](b, `document.getElementById("clean").innerHTML`)
	if clean != `<b>ok</b><img src="x">` {
		t.Errorf("sanitised html %q", clean)
	}
	time.Sleep(200 * time.Millisecond) // the broken image's error event
	if browsertest.Eval[bool](b, `window.pwned === 1`) {
		t.Error("an onerror handler survived DOMPurify")
	}
	for _, e := range b.ConsoleErrors() {
		if !strings.Contains(e, "/x:1 Failed to load resource") { // src=x is expected to 404
			t.Errorf("console error: %s", e)
		}
	}
}

func TestDialogsAndConsoleErrorsAreRecorded(t *testing.T) {
	srv := page(t, `<script>console.error("boom"); setTimeout(() => { alert("xss-1"); document.title = "after"; }, 10);</script>`)
	b := browsertest.Start(t)
	b.Navigate(srv.URL + "/")
	// The page only gets past alert() once the dialog is dismissed.
	b.Wait("the page to continue after the alert", `document.title === "after"`, 0)
	if d := b.Dialogs(); len(d) != 1 || d[0] != "alert: xss-1" {
		t.Errorf("dialogs %v", d)
	}
	errs := b.ConsoleErrors()
	if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "boom") {
		t.Errorf("console errors %v", errs)
	}
}

func TestLinkCutsAndRestores(t *testing.T) {
	srv := page(t, "")
	link := browsertest.NewLink(t, strings.TrimPrefix(srv.URL, "http://"))
	b := browsertest.Start(t)
	base := "http://" + link.Addr()
	b.Navigate(base + "/")
	fetch := `fetch("/ping", {cache: "no-store"}).then(r => r.text()).catch(() => "down")`
	if got := browsertest.Eval[string](b, fetch); got != "pong" {
		t.Fatalf("before the cut: %q", got)
	}
	link.Cut()
	if got := browsertest.Eval[string](b, fetch); got != "down" {
		t.Fatalf("during the cut: %q", got)
	}
	link.Restore()
	if got := browsertest.Eval[string](b, fetch); got != "pong" {
		t.Fatalf("after the restore: %q", got)
	}
}

func TestScreenshotIsWrittenAndKept(t *testing.T) {
	keep := t.TempDir()
	t.Setenv(browsertest.ScreenshotDirEnv, keep)
	srv := page(t, `<h1>hello</h1>`)
	b := browsertest.Start(t)
	b.Navigate(srv.URL + "/")
	p := b.Screenshot("hello page")
	for _, f := range []string{p, filepath.Join(keep, "hello_page.png")} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), "\x89PNG") {
			t.Errorf("%s is not a PNG", f)
		}
	}
}

func TestFindChromiumHonoursTheEnvironment(t *testing.T) {
	t.Setenv(browsertest.PathEnv, filepath.Join(t.TempDir(), "no-such-chromium"))
	if _, err := browsertest.FindChromium(); err == nil || !strings.Contains(err.Error(), browsertest.PathEnv) {
		t.Errorf("err %v", err)
	}
}
