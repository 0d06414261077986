package browsertest

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:embed xss-vectors.txt
var xssVectors string

// XSSVectors returns the OWASP filter-evasion vectors every page that shows
// user-supplied text is tested with.
func XSSVectors() []string {
	var out []string
	for _, line := range strings.Split(xssVectors, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// ProvokeXSS fires, on every element of the documents named by docs (JS
// expressions such as "document"), the events that hover, focus, load and
// toggle handlers wait for, so that an injected handler would run now.
func (b *Browser) ProvokeXSS(docs ...string) {
	b.t.Helper()
	for _, d := range docs {
		b.Eval0(fmt.Sprintf(`(() => { for (const e of (%s).querySelectorAll("*"))
			for (const ev of ["mouseover", "mouseenter", "focus", "toggle", "load", "error"]) e.dispatchEvent(new Event(ev)); })()`, d))
	}
}

// XSSEffects returns every sign that an injected script ran or could run in
// the documents named by docs: dialogs opened (the vectors' alert), the
// window.__xss marker set (the vectors' onerror), and markup that carries a
// script: inline event handlers, script, object and embed elements, and
// javascript: links or images. Empty means none.
func (b *Browser) XSSEffects(docs ...string) []string {
	b.t.Helper()
	var out []string
	for _, d := range b.Dialogs() {
		out = append(out, "dialog "+d)
	}
	for _, d := range docs {
		if Eval[bool](b, fmt.Sprintf(`(%s).defaultView.__xss !== undefined`, d)) {
			out = append(out, d+": window.__xss was set")
		}
		bad := Eval[[]string](b, fmt.Sprintf(`[...(%s).querySelectorAll("[onerror],[onload],[onmouseover],[onfocus],[ontoggle],[onclick],script:not([src]):not([type]),object,embed,a[href^='javascript' i],img[src^='javascript' i],iframe[src^='javascript' i]")]
			.filter(e => !(e.tagName === "SCRIPT" && e.closest("head"))).map(e => e.outerHTML.slice(0, 120))`, d))
		for _, m := range bad {
			out = append(out, d+": "+m)
		}
	}
	return out
}
