package chat

import (
	"sort"
	"time"
	"unicode/utf8"
)

// Mode is how human agents get new conversations (SPEC §2 steps 3 and 4).
type Mode string

const (
	// ModeNotifyEverybody assigns the default agent and shows and notifies
	// the conversation to every agent, so whoever is free picks it up.
	ModeNotifyEverybody Mode = "notify_everybody"
	// ModeAutomatic assigns by round robin over agents who can take a chat now.
	ModeAutomatic Mode = "automatic_assignment"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == ModeNotifyEverybody || m == ModeAutomatic }

// Bounds on the rules an admin can set; beyond them the setting is a typo.
const (
	MinAutoResolve        = time.Minute
	MaxAutoResolve        = 90 * 24 * time.Hour
	MaxConcurrentChatsCap = 1000
	MaxRuleMessageLen     = 2000 // characters of a welcome, away or fallback text
)

// Rules are an app's conversation rules; a team may override some of them
// (see RulesOverride). The zero value is not useful: start from DefaultRules.
type Rules struct {
	// BotRouting sends new conversations to HandleAllBotID first. Holding
	// the one bot in a single field is what makes "at most one bot handles
	// all new conversations" true by construction, per app and per team.
	BotRouting     bool   `json:"botRouting"`
	HandleAllBotID string `json:"handleAllBotId,omitempty"`
	Mode           Mode   `json:"mode"`
	// DefaultAgentID gets the conversation in notify-everybody mode, and in
	// automatic mode when nobody qualifies (unless QueueWhenNobody).
	DefaultAgentID  string `json:"defaultAgentId,omitempty"`
	QueueWhenNobody bool   `json:"queueWhenNobody"`
	// RemoveBotOnHandoff detaches the bot from the conversation's
	// participants at handoff; otherwise it stays listed (but silent) so
	// that a hand-back can name it.
	RemoveBotOnHandoff bool `json:"removeBotOnHandoff"`
	// AutoResolveAfter resolves a conversation after this much inactivity; 0 is off.
	AutoResolveAfter time.Duration `json:"autoResolveAfter"`
	// MaxConcurrentChats is the per-agent open-chat limit for automatic
	// assignment when the agent has none of their own; 0 is unlimited.
	MaxConcurrentChats int `json:"maxConcurrentChats"`
	// DefaultLanguage is the app's language, the fallback between the
	// contact's language and English when choosing a message.
	DefaultLanguage string `json:"defaultLanguage,omitempty"`
	// Per-language texts keyed by BCP-47 tag. Missing languages fall back
	// (see SelectMessage), ending at the built-in English defaults.
	Welcome map[string]string `json:"welcome,omitempty"`
	Away    map[string]string `json:"away,omitempty"`
	// BotFallback is said when a bot gives up or fails and no human is
	// asked (auto-handoff off): the contact must never be left in silence.
	BotFallback map[string]string `json:"botFallback,omitempty"`
}

// DefaultRules are what a new app starts with: everybody sees new chats and
// nothing is dropped, which is the least surprising start for a small team.
func DefaultRules() Rules {
	return Rules{Mode: ModeNotifyEverybody, DefaultLanguage: "en"}
}

// RulesOverride is a team's partial Rules. A nil field inherits the app's
// value; a set field replaces it, so a team can turn a flag off that the
// app has on (which a plain Rules with zero values could not express).
// Message maps merge per language: the team's texts replace the app's for
// the languages the team sets, and the app's other languages still apply.
type RulesOverride struct {
	BotRouting         *bool             `json:"botRouting,omitempty"`
	HandleAllBotID     *string           `json:"handleAllBotId,omitempty"`
	Mode               *Mode             `json:"mode,omitempty"`
	DefaultAgentID     *string           `json:"defaultAgentId,omitempty"`
	QueueWhenNobody    *bool             `json:"queueWhenNobody,omitempty"`
	RemoveBotOnHandoff *bool             `json:"removeBotOnHandoff,omitempty"`
	AutoResolveAfter   *time.Duration    `json:"autoResolveAfter,omitempty"`
	MaxConcurrentChats *int              `json:"maxConcurrentChats,omitempty"`
	Welcome            map[string]string `json:"welcome,omitempty"`
	Away               map[string]string `json:"away,omitempty"`
	BotFallback        map[string]string `json:"botFallback,omitempty"`
}

// With returns the effective rules of a team: r with o's set fields
// replacing r's. r is not changed. The language stays the app's, because a
// team serves the app's contacts.
func (r Rules) With(o RulesOverride) Rules {
	if o.BotRouting != nil {
		r.BotRouting = *o.BotRouting
	}
	if o.HandleAllBotID != nil {
		r.HandleAllBotID = *o.HandleAllBotID
	}
	if o.Mode != nil {
		r.Mode = *o.Mode
	}
	if o.DefaultAgentID != nil {
		r.DefaultAgentID = *o.DefaultAgentID
	}
	if o.QueueWhenNobody != nil {
		r.QueueWhenNobody = *o.QueueWhenNobody
	}
	if o.RemoveBotOnHandoff != nil {
		r.RemoveBotOnHandoff = *o.RemoveBotOnHandoff
	}
	if o.AutoResolveAfter != nil {
		r.AutoResolveAfter = *o.AutoResolveAfter
	}
	if o.MaxConcurrentChats != nil {
		r.MaxConcurrentChats = *o.MaxConcurrentChats
	}
	r.Welcome = mergeTexts(r.Welcome, o.Welcome)
	r.Away = mergeTexts(r.Away, o.Away)
	r.BotFallback = mergeTexts(r.BotFallback, o.BotFallback)
	return r
}

// mergeTexts returns a new map so that the app's map is never aliased into
// (and later changed through) a team's effective rules.
func mergeTexts(base, over map[string]string) map[string]string {
	if len(over) == 0 {
		return base
	}
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// Validate checks the rules' form. Whether the ids exist is CheckRefs' job,
// because that needs the app's agents and bots.
func (r Rules) Validate() error {
	if !r.Mode.Valid() {
		return FieldError("mode", `mode must be "notify_everybody" or "automatic_assignment"`)
	}
	if r.BotRouting && r.HandleAllBotID == "" {
		return FieldError("handleAllBotId", "bot routing needs the bot that handles all new conversations")
	}
	if r.HandleAllBotID != "" {
		if err := ValidateID("handleAllBotId", r.HandleAllBotID); err != nil {
			return err
		}
	}
	if r.DefaultAgentID != "" {
		if err := ValidateID("defaultAgentId", r.DefaultAgentID); err != nil {
			return err
		}
	}
	if err := validateAutoResolve(r.AutoResolveAfter); err != nil {
		return err
	}
	if err := validateMaxChats("maxConcurrentChats", r.MaxConcurrentChats); err != nil {
		return err
	}
	if err := ValidateLanguage(r.DefaultLanguage); err != nil {
		return FieldError("defaultLanguage", "defaultLanguage must be a BCP-47 tag such as en, pt-BR or es-419")
	}
	for _, f := range []struct {
		name  string
		texts map[string]string
	}{{"welcome", r.Welcome}, {"away", r.Away}, {"botFallback", r.BotFallback}} {
		if err := validateTexts(f.name, f.texts); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks the fields a team sets, with the same rules as Rules.
func (o RulesOverride) Validate() error {
	if o.Mode != nil && !o.Mode.Valid() {
		return FieldError("mode", `mode must be "notify_everybody" or "automatic_assignment"`)
	}
	if o.BotRouting != nil && *o.BotRouting && (o.HandleAllBotID == nil || *o.HandleAllBotID == "") {
		// A team turning bot routing on must name its own bot; silently
		// inheriting the app's would hide which bot the team gets.
		return FieldError("handleAllBotId", "a team that turns bot routing on must name the bot that handles its new conversations")
	}
	if o.HandleAllBotID != nil && *o.HandleAllBotID != "" {
		if err := ValidateID("handleAllBotId", *o.HandleAllBotID); err != nil {
			return err
		}
	}
	if o.DefaultAgentID != nil && *o.DefaultAgentID != "" {
		if err := ValidateID("defaultAgentId", *o.DefaultAgentID); err != nil {
			return err
		}
	}
	if o.AutoResolveAfter != nil {
		if err := validateAutoResolve(*o.AutoResolveAfter); err != nil {
			return err
		}
	}
	if o.MaxConcurrentChats != nil {
		if err := validateMaxChats("maxConcurrentChats", *o.MaxConcurrentChats); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name  string
		texts map[string]string
	}{{"welcome", o.Welcome}, {"away", o.Away}, {"botFallback", o.BotFallback}} {
		if err := validateTexts(f.name, f.texts); err != nil {
			return err
		}
	}
	return nil
}

func validateAutoResolve(d time.Duration) error {
	if d == 0 {
		return nil
	}
	if d < MinAutoResolve || d > MaxAutoResolve {
		return FieldError("autoResolveAfter", "autoResolveAfter must be 0 (off) or between 1 minute and 90 days")
	}
	return nil
}

func validateMaxChats(field string, n int) error {
	if n < 0 || n > MaxConcurrentChatsCap {
		return FieldError(field, "%s must be 0 (unlimited) to %d", field, MaxConcurrentChatsCap)
	}
	return nil
}

func validateTexts(field string, texts map[string]string) error {
	// Sorted, so that the same bad input always reports the same language.
	langs := make([]string, 0, len(texts))
	for k := range texts {
		langs = append(langs, k)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		if lang == "" || ValidateLanguage(lang) != nil {
			return FieldError(field, "%s has %q, which is not a BCP-47 language tag such as en, pt-BR or es-419", field, lang)
		}
		t := texts[lang]
		if t == "" {
			return FieldError(field, "%s for %q is empty: remove the language to use the default", field, lang)
		}
		if !utf8.ValidString(t) || utf8.RuneCountInString(t) > MaxRuleMessageLen {
			return FieldError(field, "%s for %q must be at most %d characters", field, lang, MaxRuleMessageLen)
		}
	}
	return nil
}

// CheckRefs checks that the ids the rules name belong to the app: the
// handle-all bot among bots and the default agent among agents. A disabled
// handle-all bot is accepted, because disabling a bot is its own action and
// must not be blocked by the rules; Route then skips it (ReasonBotUnavailable).
func (r Rules) CheckRefs(appID string, agents []Agent, bots []Bot) error {
	if r.HandleAllBotID != "" {
		if b := findBot(bots, appID, r.HandleAllBotID); b == nil {
			return FieldError("handleAllBotId", "the bot that handles all new conversations is not a bot of this app")
		}
	}
	if r.DefaultAgentID != "" {
		if a := findAgent(agents, appID, r.DefaultAgentID); a == nil {
			return FieldError("defaultAgentId", "the default agent is not an agent of this app")
		}
	}
	return nil
}

// AutoResolveDue reports whether a conversation idle since lastActivity
// should be resolved at now. Closed conversations are already done.
func (r Rules) AutoResolveDue(status Status, lastActivity, now time.Time) bool {
	if r.AutoResolveAfter <= 0 || status.Closed() {
		return false
	}
	return !now.Before(lastActivity.Add(r.AutoResolveAfter))
}

func findBot(bots []Bot, appID, id string) *Bot {
	for i := range bots {
		if bots[i].ID == id && bots[i].AppID == appID {
			return &bots[i]
		}
	}
	return nil
}

func findAgent(agents []Agent, appID, id string) *Agent {
	for i := range agents {
		if agents[i].ID == id && agents[i].AppID == appID {
			return &agents[i]
		}
	}
	return nil
}
