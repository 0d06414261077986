package nlu

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is one word of the input. start/end are byte offsets into the text
// the user typed, so a slot can report exactly what was typed ("A1B2C3",
// "Veintitrés") while matching runs on the folded form.
type token struct {
	norm       string // lower-cased, accents folded
	start, end int
}

// foldRune lower-cases r and strips the accent of the Latin letters users of
// the supported languages actually type. x/text would do this generally, but
// the package is standard-library only and this table covers en/es/fr/de/pt.
func foldRune(r rune) rune {
	r = unicode.ToLower(r)
	if r < 0x80 {
		return r
	}
	switch r {
	case 'à', 'á', 'â', 'ã', 'ä', 'å', 'ā', 'ă', 'ą':
		return 'a'
	case 'ç', 'ć', 'č':
		return 'c'
	case 'è', 'é', 'ê', 'ë', 'ē', 'ė', 'ę', 'ě':
		return 'e'
	case 'ì', 'í', 'î', 'ï', 'ī', 'į', 'ı':
		return 'i'
	case 'ñ', 'ń', 'ň':
		return 'n'
	case 'ò', 'ó', 'ô', 'õ', 'ö', 'ø', 'ō', 'ő':
		return 'o'
	case 'ù', 'ú', 'û', 'ü', 'ū', 'ů', 'ű', 'ų':
		return 'u'
	case 'ý', 'ÿ':
		return 'y'
	case 'ś', 'š', 'ş':
		return 's'
	case 'ź', 'ż', 'ž':
		return 'z'
	case 'ł':
		return 'l'
	case 'ß':
		return 's'
	case '’', '‘', 'ʼ':
		return '\''
	}
	return r
}

// Normalize folds text to the form the matcher compares: lower case, accents
// removed, letters repeated for emphasis squeezed (see squeeze), punctuation
// turned into single spaces. Exported for the dialog
// layer, which compares confirmation replies ("sí", "Yes!") the same way.
func Normalize(text string) string {
	toks := tokenize(text)
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.norm
	}
	return strings.Join(parts, " ")
}

// tokenize splits on anything that is not a letter or digit. Apostrophes are
// dropped inside words so "what's" and "whats" meet, which matters more for
// chat text than keeping contractions apart.
func tokenize(text string) []token {
	var toks []token
	var b strings.Builder
	start := -1
	flush := func(end int) {
		if start >= 0 && b.Len() > 0 {
			toks = append(toks, token{norm: squeeze(b.String()), start: start, end: end})
		}
		b.Reset()
		start = -1
	}
	lastEnd := 0
	for i, r := range text {
		if r == utf8.RuneError {
			flush(i)
			continue
		}
		f := foldRune(r)
		switch {
		case unicode.IsLetter(f) || unicode.IsDigit(f):
			if start < 0 {
				start = i
			}
			b.WriteRune(f)
			lastEnd = i + utf8.RuneLen(r)
		case f == '\'' && start >= 0:
			// swallow: "don't" -> "dont"
		case unicode.Is(unicode.Mn, r):
			// combining accents of decomposed input belong to the word
		default:
			flush(lastEnd)
		}
	}
	flush(lastEnd)
	return toks
}

// squeeze collapses a letter typed three or more times in a row to one, so
// that chat spellings ("hellooo", "holaaa", "nooo") meet their words. No
// English or Spanish word repeats a letter three times; digits are left
// alone, since "1000" is not "10".
func squeeze(w string) string {
	var b []rune
	run := 0
	for _, r := range w {
		n := len(b)
		if n > 0 && r == b[n-1] && unicode.IsLetter(r) {
			run++
			if run >= 2 {
				if run == 2 {
					b = b[:n-1] // the second copy already went in
				}
				continue
			}
		} else {
			run = 0
		}
		b = append(b, r)
	}
	return string(b)
}

// stem reduces a folded word to a crude stem. It is deliberately light: the
// goal is that "orders/ordered/ordering" and "pedido/pedidos" meet, not
// linguistic accuracy, and consistency between training and query text is
// what makes it work.
func stem(w, lang string) string {
	if lang == "es" {
		return stemES(w)
	}
	return stemEN(w)
}

func hasVowel(s string) bool { return strings.ContainsAny(s, "aeiouy") }

func stemEN(w string) string {
	if len(w) <= 3 || !isAlpha(w) {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
	case strings.HasSuffix(w, "s"):
		w = w[:len(w)-1]
	}
	for _, suf := range []string{"ing", "ed"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 && hasVowel(w[:len(w)-len(suf)]) {
			w = w[:len(w)-len(suf)]
			// "shipped" -> "shipp" -> "ship", but keep "call", "pass"
			n := len(w)
			if n >= 2 && w[n-1] == w[n-2] && !strings.ContainsRune("lsz", rune(w[n-1])) {
				w = w[:n-1]
			}
			break
		}
	}
	if strings.HasSuffix(w, "ly") && len(w) > 5 {
		w = w[:len(w)-2]
	}
	// "have"/"having" and "price"/"pricing" meet once the silent e goes.
	if strings.HasSuffix(w, "e") && len(w) > 3 {
		w = w[:len(w)-1]
	}
	return w
}

func stemES(w string) string {
	if len(w) <= 3 || !isAlpha(w) {
		return w
	}
	for _, suf := range []string{"amente", "mente", "aciones", "acion", "ciones", "cion"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
			w = w[:len(w)-len(suf)]
			return w
		}
	}
	switch {
	case strings.HasSuffix(w, "es") && len(w) > 5:
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "s") && len(w) > 4:
		w = w[:len(w)-1]
	}
	for _, suf := range []string{"ando", "iendo", "ado", "ida", "ido", "ar", "er", "ir"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
			return w[:len(w)-len(suf)]
		}
	}
	// gender and the verb's final vowel: pedido/pedida, envio/envie
	if n := len(w); n > 4 && strings.ContainsRune("aeo", rune(w[n-1])) {
		w = w[:n-1]
	}
	return w
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

func isStop(w, lang string) bool {
	if lang == "es" {
		return stopES[w]
	}
	return stopEN[w]
}

func set(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// Stop words are function words that carry no intent, after the usual
// English lists. "where" and "when" are kept on purpose: they separate
// "where is my order" from "I want to order". The Spanish list drops the
// same interrogatives as the English one ("cuánto" as "how much", "cuál" as
// "which") and keeps "dónde" and "cuándo" for the same reason.
var stopEN = set(`a an the is are am was were be been being i me my mine myself you your yours
yourself we our ours us it its itself they them their this that these those to of in on at for
with and or but nor do does did doing have has had having can could would will shall should may
might must please pls plz just some any so there here about from by as into through during
before after again further then once than if too also very really kindly only own same such
im m s t re ve d ll id ive youre dont want wanna need like know tell let lets get got gonna
what whats which who whom whose how why much many guys um uh well ok okay ya u ur yeah`)

var stopES = set(`el la los las lo un una unos unas de del a al en y e o u que por para con mi mis
tu tus su sus me te se le les nos es son soy esta estan estoy este esto eso esa ese yo usted
ustedes quiero quisiera queria puedo puedes puede podria podrias favor muy mas hay ser como
pero si ya tambien algo algun alguna gustaria cuanto cuanta cuantos cuantas cual cuales`)

// lexicon folds common support-chat synonyms onto one word before stemming,
// so that a bot trained on "talk to a human" also hears "speak with an
// agent". It is generic vocabulary of the support domain, not a copy of any
// bot's utterances; bots still need sample utterances for their own words.
var lexiconEN = groups(map[string]string{
	"hello":      "hi hello hey hiya howdy greetings greeting heya",
	"bye":        "bye goodbye byebye farewell cya seeya",
	"thanks":     "thanks thank thx ty cheers appreciate appreciated grateful thankyou",
	"agent":      "human person agent representative rep operator staff someone somebody employee people humans persons agents",
	"talk":       "talk speak chat connect transfer contact reach",
	"product":    "product products item items catalog catalogue merchandise goods selection range",
	"buy":        "buy purchase shop",
	"order":      "order orders package parcel",
	"ship":       "ship shipping shipped deliver delivery delivered deliveries dispatch dispatched postage courier arrive arrival",
	"return":     "return returns returned refund refunds exchange",
	"price":      "price prices cost costs pricing",
	"attachment": "attachment attach attached photo picture image file screenshot document pic",
	"policy":     "policy policies rule rules terms conditions",
})

var lexiconES = groups(map[string]string{
	"hola":     "hola buenas saludos buenos",
	"adios":    "adios chao chau",
	"gracias":  "gracias agradezco agradecido agradecida",
	"agente":   "humano humana persona agente asesor asesora representante operador operadora alguien",
	"hablar":   "hablar comunicarme contactar conversar",
	"pedido":   "pedido pedidos orden ordenes paquete paquetes compra",
	"producto": "producto productos articulo articulos catalogo mercancia",
})

func groups(m map[string]string) map[string]string {
	out := map[string]string{}
	for canon, words := range m {
		for _, w := range strings.Fields(words) {
			out[w] = canon
		}
	}
	return out
}

// term maps one folded word to the feature the matcher indexes, or "" when
// the word carries no intent.
func term(w, lang string, useLexicon bool) string {
	if isStop(w, lang) {
		return ""
	}
	if useLexicon {
		lex := lexiconEN
		if lang == "es" {
			lex = lexiconES
		}
		if c, ok := lex[w]; ok {
			return c
		}
	}
	return stem(w, lang)
}
