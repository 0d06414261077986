package chat

import (
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestRulesValidate(t *testing.T) {
	ok := DefaultRules()
	cases := []struct {
		name  string
		edit  func(*Rules)
		field string // "" means valid
	}{
		{"defaults", func(*Rules) {}, ""},
		{"automatic with everything set", func(r *Rules) {
			r.Mode, r.DefaultAgentID, r.QueueWhenNobody, r.MaxConcurrentChats = ModeAutomatic, "a1", true, 5
			r.BotRouting, r.HandleAllBotID, r.AutoResolveAfter = true, "b1", 30*time.Minute
			r.Welcome = map[string]string{"en": "Hello", "pt-BR": "Olá"}
		}, ""},
		{"unknown mode", func(r *Rules) { r.Mode = "round_robin" }, "mode"},
		{"empty mode", func(r *Rules) { r.Mode = "" }, "mode"},
		{"bot routing without a bot", func(r *Rules) { r.BotRouting = true }, "handleAllBotId"},
		{"bad bot id", func(r *Rules) { r.HandleAllBotID = "a b" }, "handleAllBotId"},
		{"bad default agent", func(r *Rules) { r.DefaultAgentID = "x/y" }, "defaultAgentId"},
		{"auto-resolve too short", func(r *Rules) { r.AutoResolveAfter = 30 * time.Second }, "autoResolveAfter"},
		{"auto-resolve negative", func(r *Rules) { r.AutoResolveAfter = -time.Minute }, "autoResolveAfter"},
		{"auto-resolve too long", func(r *Rules) { r.AutoResolveAfter = 100 * 24 * time.Hour }, "autoResolveAfter"},
		{"negative chat limit", func(r *Rules) { r.MaxConcurrentChats = -1 }, "maxConcurrentChats"},
		{"huge chat limit", func(r *Rules) { r.MaxConcurrentChats = 5000 }, "maxConcurrentChats"},
		{"bad default language", func(r *Rules) { r.DefaultLanguage = "english!" }, "defaultLanguage"},
		{"welcome in a bad language tag", func(r *Rules) { r.Welcome = map[string]string{"xx_YY!": "hi"} }, "welcome"},
		{"empty away text", func(r *Rules) { r.Away = map[string]string{"de": ""} }, "away"},
		{"too long fallback text", func(r *Rules) { r.BotFallback = map[string]string{"en": string(make([]rune, MaxRuleMessageLen+1))} }, "botFallback"},
	}
	for _, c := range cases {
		r := ok
		c.edit(&r)
		err := r.Validate()
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if !IsCode(err, CodeInvalid) || err.(*Error).Details["field"] != c.field {
			t.Errorf("%s: err = %v, want a field error on %s", c.name, err, c.field)
		}
	}
}

func TestRulesOverrideValidate(t *testing.T) {
	cases := []struct {
		name string
		o    RulesOverride
		ok   bool
	}{
		{"empty", RulesOverride{}, true},
		{"team turns bot routing off", RulesOverride{BotRouting: ptr(false)}, true},
		{"team's own bot", RulesOverride{BotRouting: ptr(true), HandleAllBotID: ptr("b2")}, true},
		{"team turns bot routing on without naming its bot", RulesOverride{BotRouting: ptr(true)}, false},
		{"bad mode", RulesOverride{Mode: ptr(Mode("x"))}, false},
		{"bad limit", RulesOverride{MaxConcurrentChats: ptr(-2)}, false},
		{"bad auto-resolve", RulesOverride{AutoResolveAfter: ptr(time.Second)}, false},
		{"bad agent id", RulesOverride{DefaultAgentID: ptr("a b")}, false},
		{"clearing the default agent", RulesOverride{DefaultAgentID: ptr("")}, true},
		{"bad away language", RulesOverride{Away: map[string]string{"": "x"}}, false},
	}
	for _, c := range cases {
		if err := c.o.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

func TestRulesWith(t *testing.T) {
	app := Rules{Mode: ModeAutomatic, BotRouting: true, HandleAllBotID: "b1", DefaultAgentID: "a1", QueueWhenNobody: true,
		RemoveBotOnHandoff: true, AutoResolveAfter: time.Hour, MaxConcurrentChats: 3, DefaultLanguage: "de",
		Away: map[string]string{"de": "App DE", "fr": "App FR"}}
	cases := []struct {
		name  string
		o     RulesOverride
		check func(Rules) bool
	}{
		{"nothing set inherits everything", RulesOverride{}, func(r Rules) bool {
			return r.Mode == ModeAutomatic && r.BotRouting && r.HandleAllBotID == "b1" && r.DefaultAgentID == "a1" &&
				r.QueueWhenNobody && r.RemoveBotOnHandoff && r.AutoResolveAfter == time.Hour && r.MaxConcurrentChats == 3
		}},
		{"a team can turn flags off", RulesOverride{BotRouting: ptr(false), QueueWhenNobody: ptr(false), RemoveBotOnHandoff: ptr(false)},
			func(r Rules) bool {
				return !r.BotRouting && !r.QueueWhenNobody && !r.RemoveBotOnHandoff && r.HandleAllBotID == "b1"
			}},
		{"a team's own bot and mode", RulesOverride{HandleAllBotID: ptr("b2"), Mode: ptr(ModeNotifyEverybody)},
			func(r Rules) bool { return r.HandleAllBotID == "b2" && r.Mode == ModeNotifyEverybody && r.BotRouting }},
		{"zero values are real settings", RulesOverride{AutoResolveAfter: ptr(time.Duration(0)), MaxConcurrentChats: ptr(0), DefaultAgentID: ptr("")},
			func(r Rules) bool {
				return r.AutoResolveAfter == 0 && r.MaxConcurrentChats == 0 && r.DefaultAgentID == ""
			}},
		{"texts merge per language", RulesOverride{Away: map[string]string{"de": "Team DE", "es": "Team ES"}},
			func(r Rules) bool {
				return r.Away["de"] == "Team DE" && r.Away["fr"] == "App FR" && r.Away["es"] == "Team ES" && r.DefaultLanguage == "de"
			}},
	}
	for _, c := range cases {
		if got := app.With(c.o); !c.check(got) {
			t.Errorf("%s: got %+v", c.name, got)
		}
	}
	if app.Away["de"] != "App DE" || len(app.Away) != 2 {
		t.Errorf("With changed the app's rules: %v", app.Away)
	}
}

func TestRulesCheckRefs(t *testing.T) {
	cases := []struct {
		name  string
		r     Rules
		field string
	}{
		{"no refs", DefaultRules(), ""},
		{"bot and agent of the app", Rules{Mode: ModeAutomatic, BotRouting: true, HandleAllBotID: "b1", DefaultAgentID: "a2"}, ""},
		{"a disabled handle-all bot is accepted (routing skips it)", Rules{HandleAllBotID: "b3"}, ""},
		{"bot of another app", Rules{HandleAllBotID: "ob"}, "handleAllBotId"},
		{"unknown bot", Rules{HandleAllBotID: "zz"}, "handleAllBotId"},
		{"agent of another app", Rules{DefaultAgentID: "x1"}, "defaultAgentId"},
		{"a bot is not an agent", Rules{DefaultAgentID: "b1"}, "defaultAgentId"},
	}
	for _, c := range cases {
		err := c.r.CheckRefs(testApp, testAgents, testBots)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if !IsCode(err, CodeInvalid) || err.(*Error).Details["field"] != c.field {
			t.Errorf("%s: err = %v, want a field error on %s", c.name, err, c.field)
		}
	}
}

func TestAutoResolveDue(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	on := Rules{AutoResolveAfter: 30 * time.Minute}
	cases := []struct {
		name   string
		r      Rules
		status Status
		now    time.Time
		want   bool
	}{
		{"off", Rules{}, StatusOpen, t0.Add(24 * time.Hour), false},
		{"not yet", on, StatusOpen, t0.Add(29 * time.Minute), false},
		{"exactly due", on, StatusOpen, t0.Add(30 * time.Minute), true},
		{"waiting conversations too", on, StatusWaiting, t0.Add(time.Hour), true},
		{"already resolved", on, StatusResolved, t0.Add(time.Hour), false},
		{"spam", on, StatusSpam, t0.Add(time.Hour), false},
	}
	for _, c := range cases {
		if got := c.r.AutoResolveDue(c.status, t0, c.now); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
