package service_test

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
)

func fieldOf(err error) string {
	var ce *chat.Error
	if errors.As(err, &ce) && ce.Code == chat.CodeInvalid {
		s, _ := ce.Details["field"].(string)
		return s
	}
	return "(not invalid: " + string(chat.ErrorCode(err)) + ")"
}

func TestRulesDefaultsAndRoundTrip(t *testing.T) {
	f := newBotFixture(t)
	got, err := f.svc.GetRules(f.ctx, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mode != chat.ModeNotifyEverybody || got.DefaultLanguage != "en" || got.BotRouting || got.BusinessHours == nil || got.BusinessHours.TimeZone != "UTC" {
		t.Fatalf("defaults = %+v", got)
	}
	agent := f.agent(t, "agent@example.com", chat.RoleAgent)
	bot := f.newBot(t, service.NewBot{Name: "Hook"})
	in := service.RulesDoc{
		BotRouting: true, HandleAllBotID: bot.Bot.ID, Mode: chat.ModeAutomatic, DefaultAgentID: agent.AgentID,
		QueueWhenNobody: true, AutoResolveMinutes: 90, MaxConcurrentChats: 5, DefaultLanguage: "pt-BR",
		Welcome: map[string]string{"pt-BR": "Olá"},
		BusinessHours: &service.HoursDoc{TimeZone: "America/Sao_Paulo", Weekly: map[string][]chat.TimeRange{
			"friday": {{Start: 22 * 60, End: 6 * 60}},
		}},
	}
	if _, err := f.svc.PutRules(f.ctx, f.admin, in); err != nil {
		t.Fatal(err)
	}
	got, err = f.svc.GetRules(f.ctx, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	if got.HandleAllBotID != bot.Bot.ID || got.AutoResolveMinutes != 90 || got.BusinessHours.TimeZone != "America/Sao_Paulo" || len(got.BusinessHours.Weekly["friday"]) != 1 {
		t.Fatalf("after put = %+v", got)
	}
	// The bot sees the mark the rules gave it.
	if v, _ := f.svc.GetBot(f.ctx, f.admin, bot.Bot.ID); !v.HandleAll {
		t.Fatalf("bot does not show handle-all: %+v", v)
	}
	// A put without hours keeps the saved hours.
	in.BusinessHours = nil
	if _, err := f.svc.PutRules(f.ctx, f.admin, in); err != nil {
		t.Fatal(err)
	}
	got, _ = f.svc.GetRules(f.ctx, f.admin)
	if got.BusinessHours.TimeZone != "America/Sao_Paulo" {
		t.Fatalf("hours lost: %+v", got.BusinessHours)
	}

	rules, hours, err := f.svc.EffectiveRules(f.ctx, f.admin.AppID, "")
	if err != nil {
		t.Fatal(err)
	}
	if rules.AutoResolveAfter != 90*time.Minute || hours.Location == nil || hours.Location.String() != "America/Sao_Paulo" {
		t.Fatalf("effective = %+v %+v", rules, hours)
	}
	// Friday 23:00 in São Paulo is open; Saturday 07:00 is not.
	sp := hours.Location
	if !hours.OpenAt(time.Date(2026, 11, 27, 23, 0, 0, 0, sp)) || hours.OpenAt(time.Date(2026, 11, 28, 7, 0, 0, 0, sp)) {
		t.Fatal("hours do not follow the saved zone")
	}
}

func TestRulesValidation(t *testing.T) {
	f := newBotFixture(t)
	agent := f.agent(t, "agent@example.com", chat.RoleAgent)
	otherApp := chat.App{Name: "B"}
	if err := f.env.Store.CreateApp(f.ctx, &otherApp); err != nil {
		t.Fatal(err)
	}
	otherBot := chat.Bot{AppID: otherApp.ID, Type: chat.BotWebhook, Name: "B's bot"}
	if err := f.env.Store.CreateBot(f.ctx, &otherBot); err != nil {
		t.Fatal(err)
	}
	base := service.RulesDoc{Mode: chat.ModeNotifyEverybody}
	for name, tc := range map[string]struct {
		change func(*service.RulesDoc)
		field  string
	}{
		"no mode":               {func(d *service.RulesDoc) { d.Mode = "" }, "mode"},
		"routing without bot":   {func(d *service.RulesDoc) { d.BotRouting = true }, "handleAllBotId"},
		"unknown bot":           {func(d *service.RulesDoc) { d.BotRouting, d.HandleAllBotID = true, chat.NewID() }, "handleAllBotId"},
		"other app's bot":       {func(d *service.RulesDoc) { d.BotRouting, d.HandleAllBotID = true, otherBot.ID }, "handleAllBotId"},
		"agent as bot":          {func(d *service.RulesDoc) { d.BotRouting, d.HandleAllBotID = true, agent.AgentID }, "handleAllBotId"},
		"unknown default agent": {func(d *service.RulesDoc) { d.DefaultAgentID = chat.NewID() }, "defaultAgentId"},
		"negative auto-resolve": {func(d *service.RulesDoc) { d.AutoResolveMinutes = -1 }, "autoResolveMinutes"},
		"huge auto-resolve":     {func(d *service.RulesDoc) { d.AutoResolveMinutes = 1 << 40 }, "autoResolveMinutes"},
		"bad language":          {func(d *service.RulesDoc) { d.Welcome = map[string]string{"english please": "hi"} }, "welcome"},
		"bad zone": {func(d *service.RulesDoc) {
			d.BusinessHours = &service.HoursDoc{TimeZone: "Mars/Olympus_Mons"}
		}, "businessHours.timeZone"},
		"local zone": {func(d *service.RulesDoc) { d.BusinessHours = &service.HoursDoc{TimeZone: "Local"} }, "businessHours.timeZone"},
		"bad weekday": {func(d *service.RulesDoc) {
			d.BusinessHours = &service.HoursDoc{TimeZone: "UTC", Weekly: map[string][]chat.TimeRange{"funday": {{Start: 0, End: 60}}}}
		}, "businessHours.weekly"},
		"empty range": {func(d *service.RulesDoc) {
			d.BusinessHours = &service.HoursDoc{Weekly: map[string][]chat.TimeRange{"monday": {{Start: 60, End: 60}}}}
		}, "businessHours.weekly.monday"},
	} {
		t.Run(name, func(t *testing.T) {
			d := base
			tc.change(&d)
			_, err := f.svc.PutRules(f.ctx, f.admin, d)
			if got := fieldOf(err); got != tc.field {
				t.Fatalf("field %q, want %q (%v)", got, tc.field, err)
			}
		})
	}
	got, _ := f.svc.GetRules(f.ctx, f.admin)
	if got.Mode != chat.ModeNotifyEverybody || got.BotRouting || got.DefaultAgentID != "" {
		t.Fatalf("a refused put changed the rules: %+v", got)
	}

	// Roles: agents neither read nor write rules.
	_, err := f.svc.GetRules(f.ctx, agent)
	wantCode(t, err, chat.CodeForbidden)
	_, err = f.svc.PutRules(f.ctx, agent, base)
	wantCode(t, err, chat.CodeForbidden)
}

func TestTeamRules(t *testing.T) {
	f := newBotFixture(t)
	agent := f.agent(t, "agent@example.com", chat.RoleAgent)
	team, err := f.svc.CreateTeam(f.ctx, f.admin, service.NewTeam{Name: "Night", AgentIDs: []string{agent.AgentID}})
	if err != nil {
		t.Fatal(err)
	}
	bot := f.newBot(t, service.NewBot{Name: "Hook"})
	got, err := f.svc.GetTeamRules(f.ctx, f.admin, team.ID)
	if err != nil || got.BusinessHours != nil || got.Mode != nil {
		t.Fatalf("empty team rules = %+v, %v", got, err)
	}
	on, mode, mins := true, chat.ModeAutomatic, 30
	in := service.TeamRulesDoc{BotRouting: &on, HandleAllBotID: &bot.Bot.ID, Mode: &mode, AutoResolveMinutes: &mins,
		Away:          map[string]string{"en": "Night team is away"},
		BusinessHours: &service.HoursDoc{TimeZone: "Asia/Tokyo", Weekly: map[string][]chat.TimeRange{"monday": {{Start: 9 * 60, End: 17 * 60}}}}}
	if _, err := f.svc.PutTeamRules(f.ctx, f.admin, team.ID, in); err != nil {
		t.Fatal(err)
	}
	got, err = f.svc.GetTeamRules(f.ctx, f.admin, team.ID)
	if err != nil || got.HandleAllBotID == nil || *got.HandleAllBotID != bot.Bot.ID || *got.AutoResolveMinutes != 30 || got.BusinessHours.TimeZone != "Asia/Tokyo" {
		t.Fatalf("team rules = %+v, %v", got, err)
	}
	rules, hours, err := f.svc.EffectiveRules(f.ctx, f.admin.AppID, team.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !rules.BotRouting || rules.HandleAllBotID != bot.Bot.ID || rules.Mode != chat.ModeAutomatic || rules.DefaultLanguage != "en" ||
		rules.Away["en"] != "Night team is away" || hours.Location.String() != "Asia/Tokyo" {
		t.Fatalf("effective = %+v, %v", rules, hours.Location)
	}
	// The app's own effective rules are unchanged.
	appRules, appHours, err := f.svc.EffectiveRules(f.ctx, f.admin.AppID, "")
	if err != nil || appRules.BotRouting || appHours.Configured() {
		t.Fatalf("app effective = %+v %+v, %v", appRules, appHours, err)
	}

	off := false
	for name, tc := range map[string]struct {
		in    service.TeamRulesDoc
		field string
	}{
		"routing on without a bot": {service.TeamRulesDoc{BotRouting: &on}, "handleAllBotId"},
		"unknown bot":              {service.TeamRulesDoc{BotRouting: &on, HandleAllBotID: ptrTo(chat.NewID())}, "handleAllBotId"},
		"unknown agent":            {service.TeamRulesDoc{DefaultAgentID: ptrTo(chat.NewID())}, "defaultAgentId"},
		"bad mode":                 {service.TeamRulesDoc{Mode: ptrTo(chat.Mode("dice"))}, "mode"},
		"bad zone":                 {service.TeamRulesDoc{BotRouting: &off, BusinessHours: &service.HoursDoc{TimeZone: "Nowhere/Special"}}, "businessHours.timeZone"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.svc.PutTeamRules(f.ctx, f.admin, team.ID, tc.in)
			if got := fieldOf(err); got != tc.field {
				t.Fatalf("field %q, want %q (%v)", got, tc.field, err)
			}
		})
	}
	_, err = f.svc.PutTeamRules(f.ctx, agent, team.ID, service.TeamRulesDoc{})
	wantCode(t, err, chat.CodeForbidden)
	_, err = f.svc.GetTeamRules(f.ctx, agent, team.ID)
	wantCode(t, err, chat.CodeForbidden)
	_, err = f.svc.GetTeamRules(f.ctx, f.admin, chat.NewID())
	wantCode(t, err, chat.CodeNotFound)
	_, err = f.svc.PutTeamRules(f.ctx, f.admin, "bad$id", service.TeamRulesDoc{})
	wantCode(t, err, chat.CodeNotFound)
}

func ptrTo[T any](v T) *T { return &v }
