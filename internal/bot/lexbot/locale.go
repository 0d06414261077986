package lexbot

import (
	"slices"
	"strings"
)

// usualRegion is the region a bare language tag stands for, among the
// regions Lex has locales for (CLDR's likely subtags). A language missing
// here still reaches any enabled locale of that language.
var usualRegion = map[string]string{
	"ar": "AE", "ca": "ES", "cmn": "CN", "da": "DK", "de": "DE", "en": "US",
	"es": "ES", "fi": "FI", "fr": "FR", "hi": "IN", "id": "ID", "it": "IT",
	"ja": "JP", "ko": "KR", "nl": "NL", "no": "NO", "pl": "PL", "pt": "BR",
	"sv": "SE", "tr": "TR", "yue": "HK", "zh": "CN",
}

// languageAlias maps tags browsers send to the language code Lex uses.
var languageAlias = map[string]string{"nb": "no", "nn": "no", "iw": "he", "in": "id"}

// latinAmerica holds the regions covered by Lex's es_419 ("Latin American
// Spanish"), so that es-MX or es-AR reach it rather than Spain's Spanish.
var latinAmerica = map[string]bool{
	"419": true, "AR": true, "BO": true, "BR": true, "BZ": true, "CL": true,
	"CO": true, "CR": true, "CU": true, "DO": true, "EC": true, "GT": true,
	"HN": true, "MX": true, "NI": true, "PA": true, "PE": true, "PR": true,
	"PY": true, "SV": true, "UY": true, "VE": true,
}

// ChooseLocale picks the Lex locale id for a contact's BCP-47 language tag
// (SPEC §4.2) among the locales enabled on the alias:
//
//   - language and region as given (pt-BR → pt_BR, es-419 → es_419);
//   - Spanish of a Latin American country → es_419;
//   - the language's usual region (bare en → en_US);
//   - any enabled locale of the language, in the alias's order;
//   - else defaultLocale when it is enabled, else en_US when enabled, else
//     the first enabled locale.
//
// Script subtags (zh-Hant-TW), variants and extensions are ignored, and an
// underscore is accepted in place of the hyphen. With no enabled locales
// known (settings not yet validated against Lex) the tag cannot be checked
// against the alias, so the result is defaultLocale, or en_US.
func ChooseLocale(tag string, enabled []string, defaultLocale string) string {
	if len(enabled) == 0 {
		if defaultLocale != "" {
			return defaultLocale
		}
		return "en_US"
	}
	if lang, region := splitTag(tag); lang != "" {
		if region != "" {
			if id, ok := enabledLocale(enabled, lang+"_"+region); ok {
				return id
			}
			if lang == "es" && latinAmerica[region] {
				if id, ok := enabledLocale(enabled, "es_419"); ok {
					return id
				}
			}
		}
		if r, ok := usualRegion[lang]; ok {
			if id, ok := enabledLocale(enabled, lang+"_"+r); ok {
				return id
			}
		}
		for _, id := range enabled {
			if l, _, ok := strings.Cut(id, "_"); ok && strings.EqualFold(l, lang) {
				return id
			}
		}
	}
	if id, ok := enabledLocale(enabled, defaultLocale); ok {
		return id
	}
	if id, ok := enabledLocale(enabled, "en_US"); ok {
		return id
	}
	return enabled[0]
}

// splitTag returns a tag's language (lower case) and region (upper case,
// or three digits), or empty strings for what is not a language tag.
func splitTag(tag string) (lang, region string) {
	parts := strings.FieldsFunc(strings.TrimSpace(tag), func(r rune) bool { return r == '-' || r == '_' })
	if len(parts) == 0 || !isAlpha(parts[0]) || len(parts[0]) < 2 || len(parts[0]) > 3 {
		return "", ""
	}
	lang = strings.ToLower(parts[0])
	if a, ok := languageAlias[lang]; ok {
		lang = a
	}
	for _, p := range parts[1:] {
		if len(p) == 4 && isAlpha(p) {
			continue // a script: Lex locales carry none
		}
		if len(p) == 2 && isAlpha(p) {
			return lang, strings.ToUpper(p)
		}
		if len(p) == 3 && isDigits(p) {
			return lang, p
		}
		break // a variant or an extension: no region follows
	}
	return lang, ""
}

// enabledLocale finds id among enabled, ignoring case, and returns it as
// the alias spells it.
func enabledLocale(enabled []string, id string) (string, bool) {
	i := slices.IndexFunc(enabled, func(e string) bool { return strings.EqualFold(e, id) })
	if i < 0 {
		return "", false
	}
	return enabled[i], true
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
