package chat

import (
	"sort"
	"strings"
)

// Built-in English texts, used when an app has not written its own.
const (
	DefaultWelcomeMessage     = "Hi there! How can we help you today?"
	DefaultAwayMessage        = "Thanks for your message. Nobody is available to answer right now; we will get back to you as soon as we can."
	DefaultBotFallbackMessage = "Sorry, I can't help with that, and no one from the team has been asked to join. You can rephrase your question, or ask to talk to a human."
)

// WelcomeMessage is the welcome text for a contact speaking lang.
func (r Rules) WelcomeMessage(lang string) string {
	return SelectMessage(r.Welcome, lang, r.DefaultLanguage, DefaultWelcomeMessage)
}

// AwayMessage is the text telling a contact speaking lang that nobody can answer now.
func (r Rules) AwayMessage(lang string) string {
	return SelectMessage(r.Away, lang, r.DefaultLanguage, DefaultAwayMessage)
}

// BotFallbackMessage is the text for a contact speaking lang when a bot
// gave up or failed and no human was asked.
func (r Rules) BotFallbackMessage(lang string) string {
	return SelectMessage(r.BotFallback, lang, r.DefaultLanguage, DefaultBotFallbackMessage)
}

// SelectMessage picks the text for a contact's language from texts keyed by
// BCP-47 tag, trying in turn:
//  1. the exact tag ("pt-BR"), ignoring case and "_" for "-";
//  2. its base language ("pt");
//  3. any other region of that language ("pt-PT"; the first in tag order,
//     so the pick is stable): a Portuguese reader is better served by
//     European Portuguese than by English;
//  4. the app's default language, by the same three steps;
//  5. English ("en", if the app wrote its own English text);
//  6. def, the built-in English text.
func SelectMessage(texts map[string]string, lang, appLang, def string) string {
	if len(texts) == 0 {
		return def
	}
	norm := make(map[string]string, len(texts))
	for k, v := range texts {
		if v != "" {
			norm[normTag(k)] = v
		}
	}
	for _, l := range []string{lang, appLang, "en"} {
		if t, ok := lookupLanguage(norm, normTag(l)); ok {
			return t
		}
	}
	return def
}

func lookupLanguage(texts map[string]string, tag string) (string, bool) {
	if tag == "" {
		return "", false
	}
	if t, ok := texts[tag]; ok {
		return t, true
	}
	base, _, _ := strings.Cut(tag, "-")
	if t, ok := texts[base]; ok {
		return t, true
	}
	var same []string
	for k := range texts {
		if strings.HasPrefix(k, base+"-") {
			same = append(same, k)
		}
	}
	if len(same) == 0 {
		return "", false
	}
	sort.Strings(same)
	return texts[same[0]], true
}

func normTag(tag string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"))
}
