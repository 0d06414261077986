package httpapi

import (
	"net/http"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot/lexbot"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// botJSON is a bot on the wire. Each connector type has its own settings
// object named after the type, so that "lex" can sit beside "webhook".
type botJSON struct {
	ID                        string       `json:"id"`
	Name                      string       `json:"name"`
	Type                      chat.BotType `json:"type"`
	AvatarURL                 string       `json:"avatarUrl"`
	Enabled                   bool         `json:"enabled"`
	AutoHandoff               bool         `json:"autoHandoff"`
	HandleAllNewConversations bool         `json:"handleAllNewConversations"`
	Webhook                   *webhookJSON `json:"webhook,omitempty"`
	Lex                       *lexJSON     `json:"lex,omitempty"`
	CreatedAt                 time.Time    `json:"createdAt"`
	// Status is what the bot's service said last: ok, or why not.
	Status       chat.BotStatus `json:"status"`
	StatusDetail string         `json:"statusDetail,omitempty"`
}

// webhookJSON shows the header value only as the redaction placeholder.
type webhookJSON struct {
	URL            string `json:"url"`
	HeaderName     string `json:"headerName,omitempty"`
	HeaderValue    string `json:"headerValue,omitempty"`
	TimeoutSeconds int    `json:"timeoutSeconds"`
}

// lexJSON is a Lex bot's settings as admins see them: the secret only as
// the redaction placeholder, defaults filled in, and the locales read from
// the alias when the settings were last validated.
type lexJSON struct {
	Region                  string   `json:"region"`
	BotID                   string   `json:"botId"`
	BotAliasID              string   `json:"botAliasId"`
	AccessKeyID             string   `json:"accessKeyId"`
	SecretAccessKey         string   `json:"secretAccessKey"`
	DefaultLocale           string   `json:"defaultLocale,omitempty"`
	MaxConsecutiveFallbacks int      `json:"maxConsecutiveFallbacks"`
	HandoffAttribute        string   `json:"handoffAttribute"`
	Endpoint                string   `json:"endpoint,omitempty"`
	Locales                 []string `json:"locales"`
}

func toBot(v *service.BotView) botJSON {
	b := v.Bot
	out := botJSON{ID: b.ID, Name: b.Name, Type: b.Type, AvatarURL: b.AvatarURL, Enabled: b.Enabled,
		AutoHandoff: b.AutoHandoff, HandleAllNewConversations: v.HandleAll, CreatedAt: b.CreatedAt,
		Status: b.Status, StatusDetail: b.StatusDetail}
	if w := v.Webhook; w != nil {
		out.Webhook = &webhookJSON{URL: w.URL, HeaderName: w.HeaderName, HeaderValue: w.HeaderValue, TimeoutSeconds: int(w.Timeout() / time.Second)}
	}
	if l := v.Lex; l != nil {
		locales := l.Locales
		if locales == nil {
			locales = []string{}
		}
		out.Lex = &lexJSON{Region: l.Region, BotID: l.BotID, BotAliasID: l.BotAliasID, AccessKeyID: l.AccessKeyID,
			SecretAccessKey: l.Redacted().SecretAccessKey, DefaultLocale: l.DefaultLocale, MaxConsecutiveFallbacks: l.Fallbacks(),
			HandoffAttribute: l.Attribute(), Endpoint: l.Endpoint, Locales: locales}
	}
	return out
}

func (s *server) createBot(w http.ResponseWriter, r *http.Request) error {
	var in service.NewBot
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	v, err := s.svc.CreateBot(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, toBot(v))
	return nil
}

func (s *server) listBots(w http.ResponseWriter, r *http.Request) error {
	bots, err := s.svc.ListBots(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	out := make([]botJSON, 0, len(bots))
	for i := range bots {
		out = append(out, toBot(&bots[i]))
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"bots": out})
	return nil
}

func (s *server) getBot(w http.ResponseWriter, r *http.Request) error {
	v, err := s.svc.GetBot(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toBot(v))
	return nil
}

func (s *server) updateBot(w http.ResponseWriter, r *http.Request) error {
	var in service.BotPatch
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	v, err := s.svc.UpdateBot(r.Context(), actorOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toBot(v))
	return nil
}

func (s *server) validateBot(w http.ResponseWriter, r *http.Request) error {
	v, err := s.svc.ValidateBot(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toBot(v))
	return nil
}

func (s *server) discoverLex(w http.ResponseWriter, r *http.Request) error {
	var in lexbot.DiscoverInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	bots, err := s.svc.DiscoverLex(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"bots": bots})
	return nil
}

func (s *server) deleteBot(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteBot(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// The rules documents are the service's input types, which are already
// wire-shaped (minutes, zone names, weekday names).

func (s *server) getRules(w http.ResponseWriter, r *http.Request) error {
	d, err := s.svc.GetRules(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, d)
	return nil
}

func (s *server) putRules(w http.ResponseWriter, r *http.Request) error {
	var in service.RulesDoc
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	d, err := s.svc.PutRules(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, d)
	return nil
}

func (s *server) getTeamRules(w http.ResponseWriter, r *http.Request) error {
	d, err := s.svc.GetTeamRules(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, d)
	return nil
}

func (s *server) putTeamRules(w http.ResponseWriter, r *http.Request) error {
	var in service.TeamRulesDoc
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	d, err := s.svc.PutTeamRules(r.Context(), actorOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, d)
	return nil
}
