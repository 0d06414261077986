package httpapi

import (
	"net/http"
	"time"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// Operations.

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) error {
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.ready != nil {
		if err := s.ready(r.Context()); err != nil {
			// The cause goes to the log only: it may name hosts or files.
			s.log.WarnContext(r.Context(), "not ready", "err", err)
			return &chat.Error{Code: chat.CodeUnavailable, Message: "not ready: the store is unreachable or not migrated", Cause: err}
		}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (s *server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	s.metricsHTTP.ServeHTTP(w, r)
	return nil
}

func (s *server) openapi(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(s.openapiJSON)
	return nil
}

// Sign-in.

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResponse struct {
	Agent     agentJSON `json:"agent"`
	CSRFToken string    `json:"csrfToken"`
}

func (s *server) login(w http.ResponseWriter, r *http.Request) error {
	// A cross-site sign-in would log the victim's browser into the
	// attacker's account (login CSRF), so sign-in gets the origin check too.
	if err := s.checkOrigin(r); err != nil {
		return err
	}
	var in loginRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	token, sess, agent, err := s.svc.LoginFrom(r.Context(), s.clientIP(r), in.Email, in.Password)
	if err != nil {
		return err
	}
	http.SetCookie(w, auth.SessionCookie(token, sess.ExpiresAt, s.secure))
	httpx.WriteJSON(w, http.StatusOK, loginResponse{Agent: toAgent(agent), CSRFToken: sess.CSRFToken})
	return nil
}

// logout ends the cookie session, if the request has one; an API key has
// nothing to end, so for it this is a no-op.
func (s *server) logout(w http.ResponseWriter, r *http.Request) error {
	if si, ok := sessionOf(r); ok {
		if err := s.svc.Logout(r.Context(), si.token); err != nil {
			return err
		}
		http.SetCookie(w, auth.SessionCookie("", time.Time{}, s.secure))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type meResponse struct {
	AppID string    `json:"appId"`
	Role  chat.Role `json:"role"`
	// Agent is null for an API key.
	Agent *agentJSON `json:"agent"`
	// CSRFToken lets a reloaded dashboard recover the token it must send.
	CSRFToken string `json:"csrfToken,omitempty"`
	APIKeyID  string `json:"apiKeyId,omitempty"`
}

func (s *server) me(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	out := meResponse{AppID: actor.AppID, Role: actor.Role, APIKeyID: actor.APIKeyID}
	if actor.AgentID != "" {
		a, err := s.svc.GetAgent(r.Context(), actor, actor.AgentID)
		if err != nil {
			return err
		}
		aj := toAgent(a)
		out.Agent = &aj
	}
	if si, ok := sessionOf(r); ok {
		out.CSRFToken = si.session.CSRFToken
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

type passwordRequest struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

func (s *server) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in passwordRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.svc.ChangePassword(r.Context(), actorOf(r), in.CurrentPassword, in.NewPassword); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Agents.

func (s *server) createAgent(w http.ResponseWriter, r *http.Request) error {
	var in service.NewAgent
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := s.svc.CreateAgent(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, toAgent(a))
	return nil
}

func (s *server) listAgents(w http.ResponseWriter, r *http.Request) error {
	agents, err := s.svc.ListAgents(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	out := make([]agentJSON, 0, len(agents))
	for i := range agents {
		out = append(out, toAgent(&agents[i]))
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"agents": out})
	return nil
}

func (s *server) getAgent(w http.ResponseWriter, r *http.Request) error {
	a, err := s.svc.GetAgent(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toAgent(a))
	return nil
}

type presenceRequest struct {
	Status chat.Presence `json:"status"`
}

func (s *server) setPresence(w http.ResponseWriter, r *http.Request) error {
	var in presenceRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	a, err := s.svc.SetPresence(r.Context(), actorOf(r), r.PathValue("id"), in.Status)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toAgent(a))
	return nil
}

// Teams.

func (s *server) createTeam(w http.ResponseWriter, r *http.Request) error {
	var in service.NewTeam
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	t, err := s.svc.CreateTeam(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, toTeam(t))
	return nil
}

func (s *server) listTeams(w http.ResponseWriter, r *http.Request) error {
	teams, err := s.svc.ListTeams(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	out := make([]teamJSON, 0, len(teams))
	for i := range teams {
		out = append(out, toTeam(&teams[i]))
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"teams": out})
	return nil
}

func (s *server) getTeam(w http.ResponseWriter, r *http.Request) error {
	t, err := s.svc.GetTeam(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toTeam(t))
	return nil
}

// Contacts.

func (s *server) getContact(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.GetContact(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toContact(c))
	return nil
}

func (s *server) updateContact(w http.ResponseWriter, r *http.Request) error {
	var in service.ContactPatch
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.svc.UpdateContact(r.Context(), actorOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toContact(c))
	return nil
}

// contactToken issues a token with which a contact's own client (a widget
// embedded by an integration) opens the realtime connection as that
// contact. It acts for the contact, so only an admin or an API key may mint
// it; agents talk to contacts through their own session.
func (s *server) contactToken(w http.ResponseWriter, r *http.Request) error {
	actor := actorOf(r)
	if !actor.Role.AtLeast(chat.RoleAdmin) {
		return chat.Errorf(chat.CodeForbidden, "this needs the %s role", chat.RoleAdmin)
	}
	c, err := s.svc.GetContact(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	exp := time.Now().Add(auth.ContactTokenTTL).Truncate(time.Second)
	httpx.WriteJSON(w, http.StatusCreated, contactTokenJSON{
		Token:     s.svc.Keys().ContactToken(c.AppID, c.ID, exp),
		ExpiresAt: exp.UTC(),
	})
	return nil
}

type contactTokenJSON struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// API keys.

type apiKeyRequest struct {
	Name string `json:"name"`
}

func (s *server) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	var in apiKeyRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	k, secret, err := s.svc.CreateAPIKey(r.Context(), actorOf(r), in.Name)
	if err != nil {
		return err
	}
	out := toAPIKey(k)
	out.Key = secret
	httpx.WriteJSON(w, http.StatusCreated, out)
	return nil
}

func (s *server) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.svc.ListAPIKeys(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	out := make([]apiKeyJSON, 0, len(keys))
	for i := range keys {
		out = append(out, toAPIKey(&keys[i]))
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"apiKeys": out})
	return nil
}

func (s *server) deleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteAPIKey(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Apps.

// appRequest is declared here rather than reusing service.NewApp, whose
// owner has a role field: the new app's first agent is always its owner,
// and a client sending a role should hear that the field does not exist.
type appRequest struct {
	Name  string `json:"name"`
	Owner struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Password string `json:"password"`
	} `json:"owner"`
}

type appResponse struct {
	App   appJSON   `json:"app"`
	Owner agentJSON `json:"owner"`
}

func (s *server) createApp(w http.ResponseWriter, r *http.Request) error {
	var in appRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	app, owner, err := s.svc.CreateApp(r.Context(), actorOf(r), service.NewApp{
		Name:  in.Name,
		Owner: service.NewAgent{Email: in.Owner.Email, Name: in.Owner.Name, Password: in.Owner.Password},
	})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, appResponse{
		App:   appJSON{ID: app.ID, Name: app.Name, CreatedAt: app.CreatedAt},
		Owner: toAgent(owner),
	})
	return nil
}
