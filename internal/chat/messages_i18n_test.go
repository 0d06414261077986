package chat

import "testing"

func TestSelectMessage(t *testing.T) {
	texts := map[string]string{"en": "Hello", "de": "Hallo", "pt-PT": "Olá (PT)", "pt-BR": "Olá (BR)", "es-419": "Hola (LatAm)", "FR_ca": "Bonjour (CA)"}
	cases := []struct {
		name          string
		texts         map[string]string
		lang, appLang string
		want          string
	}{
		{"exact tag", texts, "pt-BR", "", "Olá (BR)"},
		{"exact tag, any case and underscore", texts, "pt_br", "", "Olá (BR)"},
		{"base language", texts, "de-CH", "", "Hallo"},
		{"another region of the language, first in tag order", texts, "pt", "", "Olá (BR)"},
		{"another region when the base is missing", texts, "es-MX", "", "Hola (LatAm)"},
		{"keys are normalised too", texts, "fr", "", "Bonjour (CA)"},
		{"app default language", texts, "ja", "de", "Hallo"},
		{"app default by base", texts, "ja", "de-AT", "Hallo"},
		{"English written by the app", texts, "ja", "ko", "Hello"},
		{"built-in default", map[string]string{"de": "Hallo"}, "ja", "", "DEFAULT"},
		{"no language at all", map[string]string{"de": "Hallo"}, "", "", "DEFAULT"},
		{"no texts", nil, "de", "de", "DEFAULT"},
		{"empty texts are ignored", map[string]string{"de": ""}, "de", "", "DEFAULT"},
		{"no contact language uses the app's", texts, "", "pt-PT", "Olá (PT)"},
	}
	for _, c := range cases {
		if got := SelectMessage(c.texts, c.lang, c.appLang, "DEFAULT"); got != c.want {
			t.Errorf("%s: SelectMessage(%q, %q) = %q, want %q", c.name, c.lang, c.appLang, got, c.want)
		}
	}
}

func TestRulesMessages(t *testing.T) {
	r := DefaultRules()
	if r.WelcomeMessage("de") != DefaultWelcomeMessage || r.AwayMessage("") != DefaultAwayMessage || r.BotFallbackMessage("fr") != DefaultBotFallbackMessage {
		t.Error("defaults must be the built-in English texts")
	}
	r.Welcome = map[string]string{"de": "Willkommen"}
	if got := r.WelcomeMessage("de-DE"); got != "Willkommen" {
		t.Errorf("welcome = %q", got)
	}
}
