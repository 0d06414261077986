package lexlocal

import (
	"testing"
)

func TestMatchListBots(t *testing.T) {
	for _, c := range []struct {
		method, path string
		ok           bool
	}{
		{"POST", "/bots", true},
		{"POST", "/bots/", true},
		{"GET", "/bots", false},
		{"POST", "/bot", false},
	} {
		rt, ok := match(c.method, c.path)
		if ok != c.ok || (ok && (rt.op != "ListBots" || rt.namespace != nsModels)) {
			t.Errorf("%s %s: %+v %v", c.method, c.path, rt, ok)
		}
	}
}

// A bot whose aliases all use DRAFT was never versioned: Lex leaves
// latestBotVersion out rather than sending "DRAFT".
func TestLatestVersion(t *testing.T) {
	for _, c := range []struct {
		versions []string
		want     string
	}{
		{nil, ""},
		{[]string{"DRAFT", ""}, ""},
		{[]string{"DRAFT", "3", "12", "9"}, "12"},
	} {
		var b BotInfo
		for _, v := range c.versions {
			b.Aliases = append(b.Aliases, AliasInfo{BotVersion: v})
		}
		if got := latestVersion(b); got != c.want {
			t.Errorf("%v: %q, want %q", c.versions, got, c.want)
		}
	}
}

// FuzzDecodeListBots: any body either decodes into a request every filter
// of which can be applied, or is refused as a ValidationException.
func FuzzDecodeListBots(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `{"maxResults":1,"nextToken":"2"}`,
		`{"filters":[{"name":"BotName","operator":"CO","values":["Bot"]}],"sortBy":{"attribute":"BotName","order":"Descending"}}`,
		`{"filters":[]}`, `{"filters":[{"name":"BotType","operator":"EQ","values":[]}]}`, `{"maxResults":1e9}`, `[`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := decodeListBots(body)
		if e != nil {
			if e.Type != ErrValidation {
				t.Fatalf("refused as %s", e.Type)
			}
			return
		}
		for _, flt := range req.Filters {
			flt.keep(BotInfo{Name: "OrderBot"})
		}
	})
}
