package lexbot

import "testing"

func TestChooseLocale(t *testing.T) {
	usual := []string{"en_US", "en_GB", "es_419", "pt_BR", "fr_CA", "zh_CN"}
	spain := []string{"es_ES", "es_419", "de_DE"}
	cases := []struct {
		tag     string
		enabled []string
		def     string
		want    string
	}{
		// The four cases SPEC §4.2 names.
		{"pt-BR", usual, "", "pt_BR"},
		{"es-419", usual, "", "es_419"},
		{"es-MX", usual, "", "es_419"},
		{"en", usual, "", "en_US"},

		{"en-GB", usual, "", "en_GB"},
		{"en-AU", usual, "", "en_US"},
		{"EN_gb", usual, "", "en_GB"},
		{"es-MX", spain, "", "es_419"},
		{"es-AR", spain, "", "es_419"},
		{"es", spain, "", "es_ES"},
		{"es-ES", spain, "", "es_ES"},
		{"es", usual, "", "es_419"},
		{"fr", usual, "", "fr_CA"},
		{"fr-FR", usual, "", "fr_CA"},
		{"pt-PT", usual, "", "pt_BR"},
		{"zh-Hans-CN", usual, "", "zh_CN"},
		{"zh-Hant-TW", usual, "", "zh_CN"},
		{"zh-Hans", usual, "", "zh_CN"},
		{"en-US-x-twain", usual, "", "en_US"},
		{"sr-Latn-RS", usual, "", "en_US"},
		{"nb-NO", []string{"en_US", "no_NO"}, "", "no_NO"},

		// Unknown or missing language: the default, en_US, the first.
		{"de-DE", usual, "", "en_US"},
		{"de-DE", usual, "pt_BR", "pt_BR"},
		{"", usual, "fr_CA", "fr_CA"},
		{"klingon!", usual, "", "en_US"},
		{"ja", spain, "", "es_ES"},
		{"ja", spain, "de_DE", "de_DE"},
		{"ja", spain, "it_IT", "es_ES"}, // a default not enabled on the alias is never used

		// Locales not read from the alias yet.
		{"pt-BR", nil, "", "en_US"},
		{"pt-BR", nil, "es_419", "es_419"},
	}
	for _, tc := range cases {
		if got := ChooseLocale(tc.tag, tc.enabled, tc.def); got != tc.want {
			t.Errorf("ChooseLocale(%q, %v, %q) = %s, want %s", tc.tag, tc.enabled, tc.def, got, tc.want)
		}
	}
}
