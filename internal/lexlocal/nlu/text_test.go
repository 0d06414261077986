package nlu

import "testing"

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"¿Dónde está mi PEDIDO?", "donde esta mi pedido"},
		{"What's up!!", "whats up"},
		{"  Hello,   world ", "hello world"},
		{"Crème brûlée", "creme brulee"},
		{"ÑANDÚ", "nandu"},
		{"cafe\u0301 time", "cafe time"}, // decomposed accent
		{"order #A1B2-C3", "order a1b2 c3"},
		{"don’t", "dont"},
		{"", ""},
		{"!!!", ""},
		{"Hellooo", "hello"}, // a double letter survives
		{"holaaaa graciaaas", "hola gracias"},
		{"order 10000 zzz", "order 10000 z"}, // digits are never squeezed
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTokenOffsetsPointAtTheTypedText(t *testing.T) {
	text := "Mi número es ÁB-12"
	toks := tokenize(text)
	var got []string
	for _, tk := range toks {
		got = append(got, text[tk.start:tk.end])
	}
	want := []string{"Mi", "número", "es", "ÁB", "12"}
	if len(got) != len(want) {
		t.Fatalf("got %q want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("token %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestStem(t *testing.T) {
	for _, tc := range []struct{ lang, a, b string }{
		{"en", "orders", "order"},
		{"en", "ordered", "ordering"},
		{"en", "shipping", "ship"},
		{"en", "shipped", "ships"},
		{"en", "deliveries", "delivery"},
		{"en", "pricing", "price"},
		{"en", "boxes", "box"},
		{"en", "returned", "returns"},
		{"es", "pedidos", "pedido"},
		{"es", "pedida", "pedido"},
		{"es", "envios", "enviar"},
		{"es", "productos", "producto"},
		{"es", "informacion", "informaciones"},
	} {
		if sa, sb := stem(tc.a, tc.lang), stem(tc.b, tc.lang); sa != sb {
			t.Errorf("%s: stem(%q)=%q but stem(%q)=%q", tc.lang, tc.a, sa, tc.b, sb)
		}
	}
	for _, tc := range []struct{ lang, a, b string }{
		{"en", "class", "clas"},
		{"en", "ship", "shop"},
		{"es", "pedido", "pasado"},
	} {
		if sa, sb := stem(tc.a, tc.lang), stem(tc.b, tc.lang); sa == sb {
			t.Errorf("%s: %q and %q both stem to %q", tc.lang, tc.a, tc.b, sa)
		}
	}
}

func TestTerm(t *testing.T) {
	for _, tc := range []struct{ lang, in, want string }{
		{"en", "the", ""},
		{"en", "where", "wher"}, // question words that separate intents stay
		{"en", "agent", "agent"},
		{"en", "representative", "agent"},
		{"en", "parcel", "order"},
		{"es", "asesor", "agente"},
		{"es", "de", ""},
		{"en", "how", ""}, // "how much" and "cuánto" alike say nothing of the intent
		{"es", "cuanto", ""},
		{"es", "cuales", ""},
		{"es", "donde", "dond"},
	} {
		if got := term(tc.in, tc.lang, true); got != tc.want {
			t.Errorf("term(%q, %s) = %q, want %q", tc.in, tc.lang, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		max  int
		want int
	}{
		{"tulips", "tulips", 1, 0},
		{"tulipps", "tulips", 1, 1},
		{"tuilps", "tulips", 1, 1}, // transposition
		{"lillies", "lilies", 1, 1},
		{"roses", "daisy", 2, 3},
		{"a", "abcdef", 2, 3},
	} {
		if got := editDistance(tc.a, tc.b, tc.max); got != tc.want {
			t.Errorf("editDistance(%q,%q,%d) = %d, want %d", tc.a, tc.b, tc.max, got, tc.want)
		}
	}
}
