package nlu

import (
	"testing"
)

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"23", "23", true},
		{"twenty three", "23", true},
		{"twenty-three", "23", true},
		{"one hundred and five", "105", true},
		{"three thousand four hundred", "3400", true},
		{"I want 5 please", "5", true},
		{"veintitrés", "23", true},
		{"treinta y dos", "32", true},
		{"ciento veinte", "120", true},
		{"dos mil", "2000", true},
		{"un millón", "1000000", true},
		{"none at all", "", false},
	} {
		s, ok := findNumber(tokenize(tc.in))
		if ok != tc.ok || s.value != tc.want {
			t.Errorf("findNumber(%q) = %q,%v want %q,%v", tc.in, s.value, ok, tc.want, tc.ok)
		}
	}
}

func TestDates(t *testing.T) {
	today := refNow() // Wednesday 2026-03-04
	today = today.Truncate(24 * 3600e9)
	for _, tc := range []struct {
		lang, in, want string
	}{
		{"en", "today", "2026-03-04"},
		{"en", "tomorrow", "2026-03-05"},
		{"es", "mañana", "2026-03-05"},
		{"es", "pasado mañana", "2026-03-06"},
		{"en", "the day after tomorrow", "2026-03-06"},
		{"en", "yesterday", "2026-03-03"},
		{"en", "friday", "2026-03-06"},
		{"en", "next friday", "2026-03-06"},
		{"en", "next wednesday", "2026-03-11"},
		{"en", "wednesday", "2026-03-04"},
		{"es", "el viernes", "2026-03-06"},
		{"es", "el próximo miércoles", "2026-03-11"},
		{"en", "March 5", "2026-03-05"},
		{"en", "on march 5th please", "2026-03-05"},
		{"en", "5th of March", "2026-03-05"},
		{"en", "March 3", "2027-03-03"}, // passed this year: the next one
		{"en", "December 25, 2027", "2027-12-25"},
		{"es", "5 de marzo", "2026-03-05"},
		{"es", "25 de diciembre de 2026", "2026-12-25"},
		{"en", "2026-12-25", "2026-12-25"},
		{"en", "12/25/2026", "2026-12-25"},
		{"es", "25/12/2026", "2026-12-25"},
		{"en", "in 3 days", "2026-03-07"},
		{"es", "en dos semanas", "2026-03-18"},
		{"en", "February 30", ""},
		{"en", "may I ask something", ""},
		{"en", "no date here", ""},
	} {
		s, ok := findDate(tc.in, tokenize(tc.in), today, tc.lang)
		if tc.want == "" {
			if ok {
				t.Errorf("findDate(%q) = %q, want none", tc.in, s.value)
			}
			continue
		}
		if !ok || s.value != tc.want {
			t.Errorf("findDate(%q) = %q,%v want %q", tc.in, s.value, ok, tc.want)
		}
	}
}

func TestTimes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"3pm", "15:00"},
		{"3 pm", "15:00"},
		{"3 p.m.", "15:00"},
		{"3:30 pm", "15:30"},
		{"3:30pm", "15:30"},
		{"15:30", "15:30"},
		{"at 9", "09:00"},
		{"noon", "12:00"},
		{"midnight", "00:00"},
		{"12am", "00:00"},
		{"12pm", "12:00"},
		{"7 o'clock", "07:00"},
		{"a las 5 de la tarde", "17:00"},
		{"10 de la mañana", "10:00"},
		{"mediodía", "12:00"},
		{"25:00", ""},
		{"13pm", ""},
		{"I have 3 kids", ""},
	} {
		s, ok := findTime(tc.in, tokenize(tc.in))
		if tc.want == "" {
			if ok {
				t.Errorf("findTime(%q) = %q, want none", tc.in, s.value)
			}
			continue
		}
		if !ok || s.value != tc.want {
			t.Errorf("findTime(%q) = %q,%v want %q", tc.in, s.value, ok, tc.want)
		}
	}
}

func TestAlphaNumeric(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"A1B2C3", "A1B2C3"},
		{"it's order 12345 thanks", "12345"},
		{"ORD-5521", "ORD-5521"},
		{"order #A77F21?", "A77F21"},
		{"on the 5th", ""},
		{"at 3pm", ""},
		{"no code", ""},
	} {
		w, _, _, ok := findAlphaNumeric(tc.in)
		if tc.want == "" {
			if ok {
				t.Errorf("findAlphaNumeric(%q) = %q, want none", tc.in, w)
			}
			continue
		}
		if !ok || w != tc.want {
			t.Errorf("findAlphaNumeric(%q) = %q,%v want %q", tc.in, w, ok, tc.want)
		}
	}
}
