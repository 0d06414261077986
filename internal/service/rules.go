package service

import (
	"context"
	"sort"
	"strings"
	"time"

	// The zone database is embedded so that business hours work the same
	// in a minimal container without /usr/share/zoneinfo as on a full host.
	_ "time/tzdata"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/store"
)

// RulesDoc is an app's conversation rules as the API reads and writes them.
// It is chat.Rules with the auto-resolve delay in whole minutes (what an
// admin types) and the app's business hours beside them.
type RulesDoc struct {
	BotRouting         bool              `json:"botRouting"`
	HandleAllBotID     string            `json:"handleAllBotId,omitempty"`
	Mode               chat.Mode         `json:"mode"`
	DefaultAgentID     string            `json:"defaultAgentId,omitempty"`
	QueueWhenNobody    bool              `json:"queueWhenNobody"`
	RemoveBotOnHandoff bool              `json:"removeBotOnHandoff"`
	AutoResolveMinutes int               `json:"autoResolveMinutes"`
	MaxConcurrentChats int               `json:"maxConcurrentChats"`
	DefaultLanguage    string            `json:"defaultLanguage,omitempty"`
	Welcome            map[string]string `json:"welcome,omitempty"`
	Away               map[string]string `json:"away,omitempty"`
	BotFallback        map[string]string `json:"botFallback,omitempty"`
	BusinessHours      *HoursDoc         `json:"businessHours,omitempty"`
}

// TeamRulesDoc is a team's override: an absent (or null) field inherits
// the app's value. BusinessHours null inherits the app's hours.
type TeamRulesDoc struct {
	BotRouting         *bool             `json:"botRouting,omitempty"`
	HandleAllBotID     *string           `json:"handleAllBotId,omitempty"`
	Mode               *chat.Mode        `json:"mode,omitempty"`
	DefaultAgentID     *string           `json:"defaultAgentId,omitempty"`
	QueueWhenNobody    *bool             `json:"queueWhenNobody,omitempty"`
	RemoveBotOnHandoff *bool             `json:"removeBotOnHandoff,omitempty"`
	AutoResolveMinutes *int              `json:"autoResolveMinutes,omitempty"`
	MaxConcurrentChats *int              `json:"maxConcurrentChats,omitempty"`
	Welcome            map[string]string `json:"welcome,omitempty"`
	Away               map[string]string `json:"away,omitempty"`
	BotFallback        map[string]string `json:"botFallback,omitempty"`
	BusinessHours      *HoursDoc         `json:"businessHours"`
}

// HoursDoc is business hours on the wire: an IANA zone and opening ranges
// by lower-case weekday name. No ranges at all means always open.
type HoursDoc struct {
	TimeZone string                      `json:"timeZone"`
	Weekly   map[string][]chat.TimeRange `json:"weekly"`
}

var weekdayNames = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

const maxAutoResolveMinutes = int(chat.MaxAutoResolve / time.Minute)

// loadZone loads an IANA zone. "Local" is refused: it is whatever zone the
// server happens to run in, which would move a team's hours when the
// installation moves.
func loadZone(field, name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if name == "Local" || len(name) > 64 {
		return nil, chat.FieldError(field, "%s must be an IANA time zone such as Europe/Lisbon or America/Sao_Paulo", field)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, chat.FieldError(field, "%s must be an IANA time zone such as Europe/Lisbon or America/Sao_Paulo", field)
	}
	return loc, nil
}

func hoursFromDoc(d *HoursDoc) (store.Hours, error) {
	const field = "businessHours"
	zone := d.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	if _, err := loadZone(field+".timeZone", zone); err != nil {
		return store.Hours{}, err
	}
	h := store.Hours{Zone: zone}
	days := make([]string, 0, len(d.Weekly))
	for k := range d.Weekly {
		days = append(days, k)
	}
	sort.Strings(days) // the same bad input always names the same day
	for _, name := range days {
		day, ok := weekdayNames[name]
		if !ok {
			return store.Hours{}, chat.FieldError(field+".weekly", "businessHours.weekly has %q; use sunday to saturday in lower case", name)
		}
		ranges := d.Weekly[name]
		if len(ranges) > 24 {
			return store.Hours{}, chat.FieldError(field+".weekly."+name, "at most 24 ranges a day")
		}
		for _, r := range ranges {
			if err := r.Validate(); err != nil {
				var msg string
				if ce, ok := err.(*chat.Error); ok {
					msg = ce.Message
				}
				return store.Hours{}, chat.FieldError(field+".weekly."+name, "%s", msg)
			}
		}
		if len(ranges) > 0 {
			if h.Weekly == nil {
				h.Weekly = map[time.Weekday][]chat.TimeRange{}
			}
			h.Weekly[day] = append([]chat.TimeRange(nil), ranges...)
		}
	}
	return h, nil
}

func hoursToDoc(h store.Hours) *HoursDoc {
	d := &HoursDoc{TimeZone: h.Zone, Weekly: map[string][]chat.TimeRange{}}
	if d.TimeZone == "" {
		d.TimeZone = "UTC"
	}
	for name, day := range weekdayNames {
		if rs := h.Weekly[day]; len(rs) > 0 {
			d.Weekly[name] = rs
		}
	}
	return d
}

func minutes(field string, m int) (time.Duration, error) {
	if m < 0 || m > maxAutoResolveMinutes {
		return 0, chat.FieldError(field, "autoResolveMinutes must be 0 (off) or between 1 and %d", maxAutoResolveMinutes)
	}
	return time.Duration(m) * time.Minute, nil
}

func rulesToDoc(r *store.AppRules) RulesDoc {
	x := r.Rules
	return RulesDoc{
		BotRouting: x.BotRouting, HandleAllBotID: x.HandleAllBotID, Mode: x.Mode, DefaultAgentID: x.DefaultAgentID,
		QueueWhenNobody: x.QueueWhenNobody, RemoveBotOnHandoff: x.RemoveBotOnHandoff,
		AutoResolveMinutes: int(x.AutoResolveAfter / time.Minute), MaxConcurrentChats: x.MaxConcurrentChats,
		DefaultLanguage: x.DefaultLanguage, Welcome: x.Welcome, Away: x.Away, BotFallback: x.BotFallback,
		BusinessHours: hoursToDoc(r.Hours),
	}
}

// checkRuleRefs checks the agent and bot ids rules name against the app.
func (s *Service) checkRuleRefs(ctx context.Context, appID string, r chat.Rules) error {
	if r.HandleAllBotID == "" && r.DefaultAgentID == "" {
		return nil
	}
	agents, err := s.store.ListAgents(ctx, appID)
	if err != nil {
		return err
	}
	bots, err := s.store.ListBots(ctx, appID)
	if err != nil {
		return err
	}
	return r.CheckRefs(appID, agents, bots)
}

// GetRules returns the app's rules (the defaults when none were saved).
func (s *Service) GetRules(ctx context.Context, actor Actor) (*RulesDoc, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	r, err := s.store.GetAppRules(ctx, actor.AppID)
	if err != nil {
		return nil, err
	}
	d := rulesToDoc(r)
	return &d, nil
}

// PutRules replaces the app's rules. The bot and agent they name must be
// the app's. Without businessHours the saved hours are kept, so a client
// that knows only the routing half of the form cannot wipe the hours.
func (s *Service) PutRules(ctx context.Context, actor Actor, in RulesDoc) (*RulesDoc, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	ar, err := minutes("autoResolveMinutes", in.AutoResolveMinutes)
	if err != nil {
		return nil, err
	}
	rules := chat.Rules{
		BotRouting: in.BotRouting, HandleAllBotID: in.HandleAllBotID, Mode: in.Mode, DefaultAgentID: in.DefaultAgentID,
		QueueWhenNobody: in.QueueWhenNobody, RemoveBotOnHandoff: in.RemoveBotOnHandoff, AutoResolveAfter: ar,
		MaxConcurrentChats: in.MaxConcurrentChats, DefaultLanguage: in.DefaultLanguage,
		Welcome: in.Welcome, Away: in.Away, BotFallback: in.BotFallback,
	}
	if rules.DefaultLanguage == "" {
		rules.DefaultLanguage = chat.DefaultRules().DefaultLanguage
	}
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	var hours *store.Hours
	if in.BusinessHours != nil {
		h, err := hoursFromDoc(in.BusinessHours)
		if err != nil {
			return nil, err
		}
		hours = &h
	}
	if err := s.checkRuleRefs(ctx, actor.AppID, rules); err != nil {
		return nil, err
	}
	saved, err := s.store.UpdateAppRules(ctx, actor.AppID, func(r *store.AppRules) error {
		r.Rules = rules
		if hours != nil {
			r.Hours = *hours
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "rules saved", "app", actor.AppID, "mode", string(rules.Mode), "bot_routing", rules.BotRouting)
	d := rulesToDoc(saved)
	return &d, nil
}

func teamRulesToDoc(r *store.TeamRules) TeamRulesDoc {
	o := r.Override
	d := TeamRulesDoc{
		BotRouting: o.BotRouting, HandleAllBotID: o.HandleAllBotID, Mode: o.Mode, DefaultAgentID: o.DefaultAgentID,
		QueueWhenNobody: o.QueueWhenNobody, RemoveBotOnHandoff: o.RemoveBotOnHandoff,
		MaxConcurrentChats: o.MaxConcurrentChats, Welcome: o.Welcome, Away: o.Away, BotFallback: o.BotFallback,
	}
	if o.AutoResolveAfter != nil {
		d.AutoResolveMinutes = ptr(int(*o.AutoResolveAfter / time.Minute))
	}
	if r.Hours != nil {
		d.BusinessHours = hoursToDoc(*r.Hours)
	}
	return d
}

// GetTeamRules returns a team's override of the app's rules.
func (s *Service) GetTeamRules(ctx context.Context, actor Actor, teamID string) (*TeamRulesDoc, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if err := chat.ValidateID("id", teamID); err != nil {
		return nil, chat.NotFound("team")
	}
	r, err := s.store.GetTeamRules(ctx, actor.AppID, teamID)
	if err != nil {
		return nil, err
	}
	d := teamRulesToDoc(r)
	return &d, nil
}

// PutTeamRules replaces a team's override.
func (s *Service) PutTeamRules(ctx context.Context, actor Actor, teamID string, in TeamRulesDoc) (*TeamRulesDoc, error) {
	if err := actor.require(chat.RoleAdmin); err != nil {
		return nil, err
	}
	if err := chat.ValidateID("id", teamID); err != nil {
		return nil, chat.NotFound("team")
	}
	// The team is looked up first, so another app's team id is a 404
	// whatever the body says.
	if _, err := s.store.GetTeamRules(ctx, actor.AppID, teamID); err != nil {
		return nil, err
	}
	o := chat.RulesOverride{
		BotRouting: in.BotRouting, HandleAllBotID: in.HandleAllBotID, Mode: in.Mode, DefaultAgentID: in.DefaultAgentID,
		QueueWhenNobody: in.QueueWhenNobody, RemoveBotOnHandoff: in.RemoveBotOnHandoff,
		MaxConcurrentChats: in.MaxConcurrentChats, Welcome: in.Welcome, Away: in.Away, BotFallback: in.BotFallback,
	}
	if in.AutoResolveMinutes != nil {
		d, err := minutes("autoResolveMinutes", *in.AutoResolveMinutes)
		if err != nil {
			return nil, err
		}
		o.AutoResolveAfter = &d
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	refs := chat.Rules{}
	if o.HandleAllBotID != nil {
		refs.HandleAllBotID = *o.HandleAllBotID
	}
	if o.DefaultAgentID != nil {
		refs.DefaultAgentID = *o.DefaultAgentID
	}
	if err := s.checkRuleRefs(ctx, actor.AppID, refs); err != nil {
		return nil, err
	}
	tr := store.TeamRules{Override: o}
	if in.BusinessHours != nil {
		h, err := hoursFromDoc(in.BusinessHours)
		if err != nil {
			return nil, err
		}
		tr.Hours = &h
	}
	if err := s.store.PutTeamRules(ctx, actor.AppID, teamID, tr); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "team rules saved", "app", actor.AppID, "team", teamID)
	d := teamRulesToDoc(&tr)
	return &d, nil
}

// EffectiveRules are the rules and business hours that apply to a new
// conversation of the team (teamID "" for none): the app's, with the
// team's override on top and the team's hours, when it has its own, in
// place of the app's. It is for the conversation engine, which acts for
// the app itself, so it takes no actor.
func (s *Service) EffectiveRules(ctx context.Context, appID, teamID string) (chat.Rules, chat.BusinessHours, error) {
	app, err := s.store.GetAppRules(ctx, appID)
	if err != nil {
		return chat.Rules{}, chat.BusinessHours{}, err
	}
	rules, hours := app.Rules, app.Hours
	if teamID != "" {
		team, err := s.store.GetTeamRules(ctx, appID, teamID)
		if err != nil {
			return chat.Rules{}, chat.BusinessHours{}, err
		}
		rules = rules.With(team.Override)
		if team.Hours != nil {
			hours = *team.Hours
		}
	}
	loc, err := loadZone("timeZone", hours.Zone)
	if err != nil {
		// The zone was valid when saved; a zone database without it now
		// must not stop routing. UTC keeps the schedule's shape, and the
		// warning tells the operator why it is shifted.
		s.log.WarnContext(ctx, "business hours zone no longer loads; using UTC", "app", appID, "team", teamID, "zone", strings.ToValidUTF8(hours.Zone, "?"))
		loc = time.UTC
	}
	return rules, chat.BusinessHours{Location: loc, Weekly: hours.Weekly}, nil
}
