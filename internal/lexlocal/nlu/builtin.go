package nlu

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Built-in slot types, spelled as Lex spells them.
const (
	TypeNumber       = "AMAZON.Number"
	TypeDate         = "AMAZON.Date"
	TypeTime         = "AMAZON.Time"
	TypeAlphaNumeric = "AMAZON.AlphaNumeric"
	TypeFreeForm     = "AMAZON.FreeFormInput"
	TypeCity         = "AMAZON.City"
)

// span is a parsed value and the tokens [i, j) it was read from.
type span struct {
	value string
	i, j  int
}

var unitsEN = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
	"seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
	"thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
	"eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
	"fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}

// Spanish writes 16-29 as single words, and accents are folded before lookup
// ("veintitrés" arrives as "veintitres").
var unitsES = map[string]int{
	"cero": 0, "uno": 1, "un": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
	"seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12,
	"trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16, "diecisiete": 17,
	"dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiuno": 21, "veintiun": 21,
	"veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25,
	"veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29,
	"treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70,
	"ochenta": 80, "noventa": 90, "cien": 100, "ciento": 100, "doscientos": 200,
	"trescientos": 300, "cuatrocientos": 400, "quinientos": 500, "seiscientos": 600,
	"setecientos": 700, "ochocientos": 800, "novecientos": 900,
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// numberAt reads a number starting at token i: digits, or a run of number
// words in either language ("twenty three", "one hundred and five",
// "ciento veintitrés", "treinta y dos"). Both languages are tried so a
// Spanish bot still understands an English digit-word reply and vice versa.
func numberAt(toks []token, i int) (int, int, bool) {
	if i >= len(toks) {
		return 0, i, false
	}
	if w := toks[i].norm; isDigits(w) && len(w) <= 15 {
		n, err := strconv.Atoi(w)
		return n, i + 1, err == nil
	}
	total, cur, j, words := 0, 0, i, 0
	for j < len(toks) {
		w := toks[j].norm
		if v, ok := unitsEN[w]; ok {
			cur += v
		} else if v, ok := unitsES[w]; ok && !(w == "un" || w == "una") || ok && words == 0 && j+1 < len(toks) && isScale(toks[j+1].norm) {
			cur += v
		} else if w == "hundred" {
			if cur == 0 {
				cur = 1
			}
			cur *= 100
		} else if w == "thousand" || w == "mil" {
			if cur == 0 {
				cur = 1
			}
			total += cur * 1000
			cur = 0
		} else if w == "million" || w == "millon" || w == "millones" {
			if cur == 0 {
				cur = 1
			}
			total += cur * 1000000
			cur = 0
		} else if (w == "and" || w == "y") && words > 0 && j+1 < len(toks) && isNumberWord(toks[j+1].norm) {
			j++
			continue
		} else {
			break
		}
		words++
		j++
	}
	if words == 0 {
		return 0, i, false
	}
	return total + cur, j, true
}

func isScale(w string) bool {
	return w == "hundred" || w == "thousand" || w == "mil" || w == "million" || w == "millon" || w == "millones"
}

func isNumberWord(w string) bool {
	_, en := unitsEN[w]
	_, es := unitsES[w]
	return en || es || isScale(w)
}

// findNumber returns the first number in toks.
func findNumber(toks []token) (span, bool) {
	for i := range toks {
		if n, j, ok := numberAt(toks, i); ok {
			return span{strconv.Itoa(n), i, j}, true
		}
	}
	return span{}, false
}

var monthsEN = map[string]time.Month{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
	"may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
	"sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}

var monthsES = map[string]time.Month{
	"enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
	"agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
}

var weekdays = map[string]time.Weekday{
	"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
	"domingo": 0, "lunes": 1, "martes": 2, "miercoles": 3, "jueves": 4, "viernes": 5, "sabado": 6,
}

func monthOf(w string) (time.Month, bool) {
	if m, ok := monthsEN[w]; ok {
		return m, true
	}
	m, ok := monthsES[w]
	return m, ok
}

// dayOf reads "5", "5th", "21st" as a day of the month.
func dayOf(w string) (int, bool) {
	for _, suf := range []string{"st", "nd", "rd", "th"} {
		if strings.HasSuffix(w, suf) && len(w) > len(suf) {
			w = w[:len(w)-len(suf)]
			break
		}
	}
	if !isDigits(w) || len(w) > 2 {
		return 0, false
	}
	d, _ := strconv.Atoi(w)
	return d, d >= 1 && d <= 31
}

func sepAfter(text string, toks []token, i int) byte {
	if i+1 >= len(toks) || toks[i].end >= len(text) || toks[i+1].start-toks[i].end != 1 {
		return 0
	}
	return text[toks[i].end]
}

func ymd(t time.Time) string { return t.Format("2006-01-02") }

func validDate(y int, m time.Month, d int) (time.Time, bool) {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return t, t.Month() == m && t.Day() == d && y >= 1 && y <= 9999
}

// dateAt reads a date starting at token i, relative to today. Dates without
// a year resolve to the next such date on or after today, and bare weekdays
// to the coming one, as Lex does for a support conversation.
func dateAt(text string, toks []token, i int, today time.Time, lang string) (span, bool) {
	w := toks[i].norm
	next := func(j int) string {
		if j < len(toks) {
			return toks[j].norm
		}
		return ""
	}
	mk := func(t time.Time, j int) (span, bool) { return span{ymd(t), i, j}, true }
	switch w {
	case "today", "hoy", "tonight":
		return mk(today, i+1)
	case "tomorrow", "manana":
		return mk(today.AddDate(0, 0, 1), i+1)
	case "yesterday", "ayer":
		return mk(today.AddDate(0, 0, -1), i+1)
	case "pasado":
		if next(i+1) == "manana" {
			return mk(today.AddDate(0, 0, 2), i+2)
		}
	case "day":
		if next(i+1) == "after" && next(i+2) == "tomorrow" {
			return mk(today.AddDate(0, 0, 2), i+3)
		}
	case "in", "en", "within":
		if n, j, ok := numberAt(toks, i+1); ok && n < 3660 {
			switch next(j) {
			case "day", "days", "dia", "dias":
				return mk(today.AddDate(0, 0, n), j+1)
			case "week", "weeks", "semana", "semanas":
				return mk(today.AddDate(0, 0, 7*n), j+1)
			}
		}
	case "next", "proximo", "proxima", "this", "este", "esta", "coming":
		if wd, ok := weekdays[next(i+1)]; ok {
			ahead := (int(wd) - int(today.Weekday()) + 7) % 7
			if ahead == 0 && w != "this" && w != "este" {
				ahead = 7
			}
			return mk(today.AddDate(0, 0, ahead), i+2)
		}
		switch next(i + 1) {
		case "week", "semana":
			return mk(today.AddDate(0, 0, 7), i+2)
		}
	}
	if wd, ok := weekdays[w]; ok {
		ahead := (int(wd) - int(today.Weekday()) + 7) % 7
		j := i + 1
		// "el viernes que viene"
		if next(j) == "que" && next(j+1) == "viene" {
			if ahead == 0 {
				ahead = 7
			}
			j += 2
		}
		return mk(today.AddDate(0, 0, ahead), j)
	}
	yearAt := func(j int) (int, int) {
		if next(j) == "de" || next(j) == "del" {
			j++
		}
		if y := next(j); isDigits(y) && len(y) == 4 {
			n, _ := strconv.Atoi(y)
			return n, j + 1
		}
		return 0, -1
	}
	upcoming := func(m time.Month, d, y, j int) (span, bool) {
		if y > 0 {
			if t, ok := validDate(y, m, d); ok {
				return mk(t, j)
			}
			return span{}, false
		}
		t, ok := validDate(today.Year(), m, d)
		if !ok {
			return span{}, false
		}
		if t.Before(today) {
			if t2, ok := validDate(today.Year()+1, m, d); ok {
				t = t2
			}
		}
		return mk(t, j)
	}
	// "March 5", "March 5th, 2027", "marzo 5"
	if m, ok := monthOf(w); ok && !(w == "may" && lang != "es" && !isDayToken(next(i+1))) && !(w == "mar" && lang == "es") {
		j := i + 1
		if next(j) == "the" {
			j++
		}
		if d, ok := dayOf(next(j)); ok {
			y, k := yearAt(j + 1)
			if k < 0 {
				k = j + 1
			}
			return upcoming(m, d, y, k)
		}
	}
	// "5 March", "5th of March", "5 de marzo de 2027"
	if d, ok := dayOf(w); ok {
		j := i + 1
		if next(j) == "of" || next(j) == "de" {
			j++
		}
		if m, ok := monthOf(next(j)); ok {
			y, k := yearAt(j + 1)
			if k < 0 {
				k = j + 1
			}
			return upcoming(m, d, y, k)
		}
	}
	// ISO 2026-03-05 and numeric 3/5/2026 (month first in English, day
	// first in Spanish).
	if isDigits(w) && i+2 < len(toks) && isDigits(next(i+1)) && isDigits(next(i+2)) {
		s1, s2 := sepAfter(text, toks, i), sepAfter(text, toks, i+1)
		if s1 != 0 && s1 == s2 && strings.IndexByte("-/.", s1) >= 0 {
			a, _ := strconv.Atoi(w)
			b, _ := strconv.Atoi(next(i + 1))
			c, _ := strconv.Atoi(next(i + 2))
			var t time.Time
			var ok bool
			switch {
			case len(w) == 4:
				t, ok = validDate(a, time.Month(b), c)
			case len(next(i+2)) == 4 && lang == "es":
				t, ok = validDate(c, time.Month(b), a)
			case len(next(i+2)) == 4:
				t, ok = validDate(c, time.Month(a), b)
			}
			if ok {
				return mk(t, i+3)
			}
		}
	}
	return span{}, false
}

func isDayToken(w string) bool { _, ok := dayOf(w); return ok }

func findDate(text string, toks []token, today time.Time, lang string) (span, bool) {
	for i := range toks {
		if s, ok := dateAt(text, toks, i, today, lang); ok {
			return s, true
		}
	}
	return span{}, false
}

func hhmm(h, m int) string { return fmt.Sprintf("%02d:%02d", h, m) }

// timeAt reads a time of day starting at token i.
func timeAt(text string, toks []token, i int) (span, bool) {
	w := toks[i].norm
	next := func(j int) string {
		if j < len(toks) {
			return toks[j].norm
		}
		return ""
	}
	switch w {
	case "noon", "midday", "mediodia":
		return span{"12:00", i, i + 1}, true
	case "midnight", "medianoche":
		return span{"00:00", i, i + 1}, true
	}
	// "3pm" and "11am" arrive as one token.
	for _, suf := range []string{"am", "pm"} {
		if strings.HasSuffix(w, suf) && isDigits(w[:len(w)-2]) {
			h, _ := strconv.Atoi(w[:len(w)-2])
			if h >= 1 && h <= 12 {
				return span{hhmm(ampm(h, 0, suf), 0), i, i + 1}, true
			}
		}
	}
	if !isDigits(w) || len(w) > 2 {
		return span{}, false
	}
	h, _ := strconv.Atoi(w)
	m, j := 0, i+1
	if sepAfter(text, toks, i) == ':' || sepAfter(text, toks, i) == '.' && len(next(i+1)) == 2 {
		mw := next(i + 1)
		suf := ""
		if strings.HasSuffix(mw, "am") || strings.HasSuffix(mw, "pm") {
			suf, mw = mw[len(mw)-2:], mw[:len(mw)-2]
		}
		if !isDigits(mw) || len(mw) != 2 {
			return span{}, false
		}
		m, _ = strconv.Atoi(mw)
		j = i + 2
		if suf != "" {
			if h < 1 || h > 12 || m > 59 {
				return span{}, false
			}
			return span{hhmm(ampm(h, m, suf), m), i, j}, true
		}
	} else if next(j) != "am" && next(j) != "pm" && next(j) != "a" && next(j) != "p" && next(j) != "oclock" && next(j) != "de" && next(j) != "h" && next(j) != "hs" && next(j) != "horas" {
		// a bare number is only a time when something says so
		if i == 0 || (toks[i-1].norm != "at" && toks[i-1].norm != "las" && toks[i-1].norm != "la") {
			return span{}, false
		}
	}
	if h > 23 || m > 59 {
		return span{}, false
	}
	switch {
	case next(j) == "am" || next(j) == "pm":
		if h < 1 || h > 12 {
			return span{}, false
		}
		h = ampm(h, m, next(j))
		j++
	case (next(j) == "a" || next(j) == "p") && next(j+1) == "m":
		if h < 1 || h > 12 {
			return span{}, false
		}
		h = ampm(h, m, next(j)+"m")
		j += 2
	case next(j) == "oclock" || next(j) == "h" || next(j) == "hs" || next(j) == "horas":
		j++
	}
	// "3 de la tarde", "10 de la mañana", "9 de la noche"
	if next(j) == "de" && next(j+1) == "la" {
		switch next(j + 2) {
		case "tarde", "noche":
			if h < 12 {
				h += 12
			}
			j += 3
		case "manana", "madrugada":
			if h == 12 {
				h = 0
			}
			j += 3
		}
	}
	return span{hhmm(h, m), i, j}, true
}

func ampm(h, _ int, suf string) int {
	if suf == "pm" && h < 12 {
		return h + 12
	}
	if suf == "am" && h == 12 {
		return 0
	}
	return h
}

func findTime(text string, toks []token) (span, bool) {
	for i := range toks {
		if s, ok := timeAt(text, toks, i); ok {
			return s, true
		}
	}
	return span{}, false
}

// findAlphaNumeric finds an identifier the user typed, such as an order
// number. Hyphenated codes ("ORD-1234") stay whole, so it scans the raw text
// rather than the word tokens. Tokens with a digit win over plain words
// because that is what order numbers and tracking codes look like.
func findAlphaNumeric(text string) (string, int, int, bool) {
	start := -1
	for i := 0; i <= len(text); i++ {
		var c byte
		if i < len(text) {
			c = text[i]
		}
		alnum := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' && start >= 0
		if alnum {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			w := strings.TrimRight(text[start:i], "-")
			if strings.ContainsAny(w, "0123456789") && !isOrdinalOrTime(w) {
				return w, start, start + len(w), true
			}
			start = -1
		}
	}
	return "", 0, 0, false
}

// isOrdinalOrTime keeps "5th" and "3pm" from being read as order numbers.
func isOrdinalOrTime(w string) bool {
	l := strings.ToLower(w)
	for _, suf := range []string{"st", "nd", "rd", "th", "am", "pm"} {
		if strings.HasSuffix(l, suf) && isDigits(l[:len(l)-2]) && len(l) <= 4 {
			return true
		}
	}
	return false
}
